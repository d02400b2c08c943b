/*
 * main.c - netmapd: command line, start-up, detaching.
 *
 * Started on demand by libnetmap (detached, idle exit) or as a service
 * (--foreground).  When it detaches, it does so only after the socket is
 * listening, so whoever started it can connect as soon as the first
 * process exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nmd.h"
#include "unm_nic.h"

#define NETMAPD_VERSION "0.1.0"

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: netmapd [-f] [-s PATH] [-l FILE] [-i SECONDS] [-v|-q]\n"
		"               [--vale-threads N] [--vale-busy] [--vale-cpus LIST]\n"
		"               [--vale-batch N] [--nic-mode MODE] [--nic-bufs N] [--no-nic]\n"
		"\n"
		"unetmap's management daemon: memory regions, pipes and ports.\n"
		"libnetmap starts it on demand; run it with -f as a service.\n"
		"\n"
		"  -f, --foreground      stay attached, log to stderr\n"
		"  -s, --socket PATH     control socket (default: $UNETMAP_SOCKET,\n"
		"                        $XDG_RUNTIME_DIR/unetmap/netmapd.sock, or\n"
		"                        /run/unetmap/netmapd.sock for root)\n"
		"  -l, --log FILE        log file when detached (default: beside the socket)\n"
		"  -i, --idle-exit SEC   exit after SEC seconds without clients or ports\n"
		"                        (default 0: never)\n"
		"  -v, --verbose         log debug messages\n"
		"  -q, --quiet           log only warnings and errors\n"
		"      --vale-threads N  VALE forwarding threads (default 1, max 64); each\n"
		"                        serves a disjoint set of ports\n"
		"      --vale-busy       forwarding threads busy-poll instead of sleeping\n"
		"      --vale-cpus LIST  pin forwarding thread i to the i-th cpu of LIST\n"
		"                        (comma separated, reused cyclically)\n"
		"      --vale-batch N    slots a forwarding thread takes from a TX ring\n"
		"                        at a time (default 256, max 1024)\n"
		"      --nic-mode MODE   how netmap:IFNAME reaches interfaces when the\n"
		"                        application does not say (@conf:nic=): auto\n"
		"                        (default), or native, generic, emulated,\n"
		"                        zerocopy, copy, joined with '+'\n"
		"      --nic-bufs N      buffers of a process's NIC region (default 32768;\n"
		"                        AF_XDP pins them)\n"
		"      --no-nic          serve no network interfaces and no tunnels\n"
		"                        (netmap:IFNAME, vxlan:... are ENXIO); needs no\n"
		"                        privilege then\n"
		"  -V, --version         print the version and exit\n"
		"  -h, --help            this text\n"
		"\n"
		"Exit status: 0 on a clean stop or when another netmapd already serves\n"
		"the socket, 1 on errors, 2 on bad usage.\n");
}

/*
 * Every port brings eventfds and a region memfd, every client a socket:
 * a netmapd started on demand inherits the application's limit (often
 * 1024, ~200 VALE ports).  Take the hard limit; as root, raise the hard
 * limit too, up to the kernel's fs.nr_open (at most 1M).
 */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (geteuid() == 0) {
		unsigned long nr_open = 0;
		FILE *f = fopen("/proc/sys/fs/nr_open", "r");

		if (f) {
			if (fscanf(f, "%lu", &nr_open) != 1)
				nr_open = 0;
			fclose(f);
		}
		if (nr_open > (1ul << 20))
			nr_open = 1ul << 20;
		if (nr_open > rl.rlim_max) {
			struct rlimit up = { nr_open, nr_open };

			if (setrlimit(RLIMIT_NOFILE, &up) == 0)
				return;
		}
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'l' },
		{ "idle-exit", required_argument, NULL, 'i' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "vale-threads", required_argument, NULL, 'T' },
		{ "vale-busy", no_argument, NULL, 'B' },
		{ "vale-cpus", required_argument, NULL, 'C' },
		{ "vale-batch", required_argument, NULL, 'N' },
		{ "nic-mode", required_argument, NULL, 'X' },
		{ "nic-bufs", required_argument, NULL, 'Y' },
		{ "no-nic", no_argument, NULL, 'Z' },
		{ NULL, 0, NULL, 0 },
	};
	struct nmd_vale_opts vopts = { .threads = 1 };
	struct nmd_nic_opts nopts = { .mode = 0 };
	char path[108], logpath[128];
	const char *sock = NULL, *logfile = NULL;
	int fg = 0, idle = 0, c, lfd, lockfd = -1, rc;
	pid_t pid;

	while ((c = getopt_long(argc, argv, "fs:l:i:vqVh", lopts, NULL)) != -1) {
		switch (c) {
		case 'f': fg = 1; break;
		case 's': sock = optarg; break;
		case 'l': logfile = optarg; break;
		case 'i': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 0 || v > 86400 * 365) {
				fprintf(stderr, "netmapd: bad --idle-exit '%s'\n", optarg);
				return 2;
			}
			idle = (int)v;
			break;
		}
		case 'v': nmd_log_level = NMD_LOG_DEBUG; break;
		case 'q': nmd_log_level = NMD_LOG_WARN; break;
		case 'V': printf("netmapd (unetmap) %s\n", NETMAPD_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		case 'T': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 1 || v > 64) {
				fprintf(stderr, "netmapd: bad --vale-threads '%s'\n", optarg);
				return 2;
			}
			vopts.threads = (unsigned)v;
			break;
		}
		case 'B': vopts.busy = true; break;
		case 'X':
			if (unm_nic_mode_parse(optarg, &nopts.mode) < 0) {
				fprintf(stderr, "netmapd: bad --nic-mode '%s'\n", optarg);
				return 2;
			}
			break;
		case 'Z': nopts.disabled = true; break;
		case 'Y': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 1024 || v > (1L << 22)) {
				fprintf(stderr, "netmapd: bad --nic-bufs '%s' (1024..4194304)\n", optarg);
				return 2;
			}
			nopts.bufs = (uint32_t)v;
			break;
		}
		case 'N': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 1 || v > 1024) {
				fprintf(stderr, "netmapd: bad --vale-batch '%s'\n", optarg);
				return 2;
			}
			vopts.batch = (unsigned)v;
			break;
		}
		case 'C': {
			char *p = optarg, *end;

			vopts.ncpus = 0;
			while (*p && vopts.ncpus < 64) {
				long v = strtol(p, &end, 10);

				if (end == p || v < 0 || v >= CPU_SETSIZE || (*end && *end != ',')) {
					fprintf(stderr, "netmapd: bad --vale-cpus '%s'\n", optarg);
					return 2;
				}
				vopts.cpu[vopts.ncpus++] = (int)v;
				p = *end ? end + 1 : end;
			}
			break;
		}
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (sock) {
		if (strlen(sock) >= sizeof(path)) {
			fprintf(stderr, "netmapd: socket path too long\n");
			return 1;
		}
		strcpy(path, sock);
	} else if (unm_socket_path(path, sizeof(path)) < 0) {
		fprintf(stderr, "netmapd: socket path too long\n");
		return 1;
	}
	/* Started by posix_spawn from an application: do not hold on to its
	 * descriptors (pipes it waits on would never see EOF). */
	close_range(3, ~0u, 0);
	nmd_log_open(NULL);
	raise_nofile();
	lfd = nmd_server_listen(path, &lockfd);
	if (lfd == -EALREADY) {
		if (fg)
			nmd_warn("another netmapd already serves %s", path);
		return 0;
	}
	if (lfd < 0)
		return 1;
	if (!fg) {
		pid = fork();
		if (pid < 0) {
			nmd_err("fork: %s", strerror(errno));
			return 1;
		}
		if (pid > 0)
			return 0;	/* the socket is ready: our starter may go on */
		/* one fork is enough: netmapd never opens a terminal */
		setsid();
		if (chdir("/") < 0)
			_exit(1);
		c = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (c >= 0) {
			dup2(c, 0);
			dup2(c, 1);
			dup2(c, 2);
			if (c > 2)
				close(c);
		}
		if (!logfile) {
			snprintf(logpath, sizeof(logpath), "%.100s.log", path);
			logfile = logpath;
		}
		nmd_log_open(logfile);
	}
	/* who serves this socket, for whoever wants to stop us by pid */
	if (ftruncate(lockfd, 0) == 0)
		dprintf(lockfd, "%d\n", (int)getpid());
	nmd_regions_init();
	nmd_vale_configure(&vopts);
	nopts.socket = path;
	nmd_nic_configure(&nopts);
	nmd_nic_init();
	nmd_info("listening on %s%s", path, fg ? "" : " (detached)");
	rc = nmd_server_loop(lfd, idle);
	nmd_vm_fini();
	nmd_guest_fini();
	nmd_nic_fini();
	nmd_vale_fini();
	close(lfd);
	unlink(path);
	close(lockfd);
	return rc;
}
