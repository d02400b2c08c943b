/*
 * nm-vm - pass unetmap ports through to QEMU guests: export a pipe end,
 * several pipe ends of one name, or a VALE port on a UNIX socket that
 * QEMU's ivshmem-doorbell device connects to; list the exports; end one.
 *
 *   nm-vm export -s SOCKET [-n NAME] [-v VECTORS] [-m MODE] PORT...
 *   nm-vm unexport -s SOCKET | -n NAME
 *   nm-vm list
 *
 * It talks to netmapd through /dev/netmap and unetmap's own NIOCCTRL
 * requests (common/unm_vm.h); netmapd serves the socket and holds the
 * ports until the guest goes away.  See nm-vm.8 and docs/passthrough.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libnetmap.h>

#include "unm_reason.h"	/* netmapd's reason for a refusal (libnetmap.a) */
#include "unm_vm.h"

static void usage(FILE *f, int status)
{
	fprintf(f,
		"usage: nm-vm export -s SOCKET [-n NAME] [-v VECTORS] [-m MODE] PORT...\n"
		"       nm-vm unexport -s SOCKET | -n NAME\n"
		"       nm-vm list\n"
		"  export     pass PORT (a pipe end, several pipe ends of one name, or a\n"
		"             VALE port) through to the QEMU guest that connects to SOCKET\n"
		"             with -device ivshmem-doorbell; netmapd holds the ports until\n"
		"             that QEMU goes away.  Prints the QEMU options to use.\n"
		"  unexport   end the export on SOCKET (or for guest NAME)\n"
		"  list       show the exports: socket, guest, state, ports\n"
		"  -s SOCKET  the UNIX socket netmapd listens on for QEMU\n"
		"  -n NAME    the guest's name, for messages and the region's seal\n"
		"             (default vm:<socket file name>)\n"
		"  -v VECTORS MSI-X vectors (default and minimum: 2 per port)\n"
		"  -m MODE    permissions of the socket file, octal (default 600)\n"
		"  -h         this text\n"
		"Exit status: 0 done, 1 refused (the reason is printed), 2 bad usage.\n");
	exit(status);
}

static int ctrl(uint16_t type, void *body, const char *what)
{
	struct nmreq_header hdr;
	int fd = open("/dev/netmap", O_RDWR | O_CLOEXEC), err;

	if (fd < 0) {
		err = errno;
		fprintf(stderr, "nm-vm: cannot reach netmapd: %s%s%s\n", strerror(err),
			unm_reason()[0] ? ": " : "", unm_reason());
		return -err;
	}
	nmreq_header_init(&hdr, type, body);
	if (ioctl(fd, NIOCCTRL, &hdr) < 0) {
		err = errno;
		if (what)
			fprintf(stderr, "nm-vm: %s: %s%s%s\n", what, strerror(err),
				unm_reason()[0] ? ": " : "", unm_reason());
		close(fd);
		return -err;
	}
	close(fd);
	return 0;
}

/* netmapd may run in another directory: give it an absolute path */
static int abs_sock(const char *in, char *out, size_t len)
{
	char cwd[PATH_MAX];

	if (in[0] == '/') {
		if (strlen(in) >= len)
			return -ENAMETOOLONG;
		strcpy(out, in);
		return 0;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	if ((size_t)snprintf(out, len, "%s/%s", cwd, in) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int cmd_export(const char *sock, const char *name, unsigned vectors, unsigned mode,
		      char **ports, int nports)
{
	struct unm_vm_export *ex = calloc(1, sizeof(*ex));
	char list[UNM_VM_MAX_PORTS * UNM_VM_NAME_LEN + UNM_VM_MAX_PORTS] = "";
	int i, err;

	if (!ex)
		return 1;
	if (nports > UNM_VM_MAX_PORTS) {
		fprintf(stderr, "nm-vm: at most %d ports per export\n", UNM_VM_MAX_PORTS);
		free(ex);
		return 2;
	}
	if (abs_sock(sock, ex->sock, sizeof(ex->sock)) < 0) {
		fprintf(stderr, "nm-vm: socket path too long: %s\n", sock);
		free(ex);
		return 2;
	}
	if (name && strlen(name) >= sizeof(ex->holder)) {
		fprintf(stderr, "nm-vm: guest name too long (at most %zu characters)\n",
			sizeof(ex->holder) - 1);
		free(ex);
		return 2;
	}
	if (name)
		strcpy(ex->holder, name);
	ex->vectors = vectors;
	ex->mode = mode;
	ex->nports = (uint32_t)nports;
	for (i = 0; i < nports; i++) {
		/* netmap:x}1 is x}1 to netmapd, as in every other tool */
		const char *p = strncmp(ports[i], "netmap:", 7) == 0 ? ports[i] + 7 : ports[i];

		if (strlen(p) >= UNM_VM_NAME_LEN || !*p) {
			fprintf(stderr, "nm-vm: bad port name '%s'\n", ports[i]);
			free(ex);
			return 2;
		}
		strcpy(ex->port[i], p);
		strcat(list, i ? " " : "");
		strcat(list, p);
	}
	err = ctrl(UNM_REQ_VM_EXPORT, ex, "export");
	if (err) {
		free(ex);
		return 1;
	}
	printf("nm-vm: %s exported to %s on %s (memory region %u, %u vectors)\n", list,
	       ex->holder, ex->sock, ex->mem_id, ex->vectors);
	printf("QEMU: -chardev socket,id=nmvm%u,path=%s "
	       "-device ivshmem-doorbell,chardev=nmvm%u,vectors=%u\n",
	       ex->mem_id, ex->sock, ex->mem_id, ex->vectors);
	free(ex);
	return 0;
}

static int cmd_unexport(const char *sock, const char *name)
{
	struct unm_vm_unexport ux;

	memset(&ux, 0, sizeof(ux));
	if (sock && abs_sock(sock, ux.sock, sizeof(ux.sock)) < 0) {
		fprintf(stderr, "nm-vm: socket path too long: %s\n", sock);
		return 2;
	}
	if (!sock && name) {
		if (strlen(name) >= sizeof(ux.holder)) {
			fprintf(stderr, "nm-vm: guest name too long\n");
			return 2;
		}
		strcpy(ux.holder, name);
	}
	return ctrl(UNM_REQ_VM_UNEXPORT, &ux, "unexport") ? 1 : 0;
}

static int cmd_list(void)
{
	struct unm_vm_list *l = calloc(1, sizeof(*l));
	uint32_t next = 0, i;
	int err, n = 0;

	if (!l)
		return 1;
	for (;;) {
		memset(l, 0, sizeof(*l));
		l->index = next;
		err = ctrl(UNM_REQ_VM_LIST, l, NULL);
		if (err == -ENOENT)
			break;
		if (err) {
			fprintf(stderr, "nm-vm: list: %s%s%s\n", strerror(-err),
				unm_reason()[0] ? ": " : "", unm_reason());
			free(l);
			return 1;
		}
		if (n++ == 0)
			printf("%-32s %-16s %-9s %4s %6s %7s %s\n", "SOCKET", "GUEST", "STATE",
			       "PEER", "REGION", "VECTORS", "PORTS");
		printf("%-32s %-16s %-9s %4u %6u %7u", l->sock, l->holder,
		       l->state == UNM_VM_CONNECTED ? "connected" : "waiting", l->peer, l->mem_id,
		       l->vectors);
		for (i = 0; i < l->nports && i < UNM_VM_MAX_PORTS; i++)
			printf(" %.*s", UNM_VM_NAME_LEN, l->port[i]);
		printf("\n");
		next = l->index + 1;
	}
	free(l);
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *name = NULL, *cmd;
	unsigned long vectors = 0, mode = 0;
	char *end;
	int ch;

	if (argc < 2)
		usage(stderr, 2);
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0)
		usage(stdout, 0);
	optind = 2;
	while ((ch = getopt(argc, argv, "s:n:v:m:h")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'v':
			vectors = strtoul(optarg, &end, 10);
			if (*end || !*optarg || vectors > 256) {
				fprintf(stderr, "nm-vm: bad vector count '%s'\n", optarg);
				return 2;
			}
			break;
		case 'm':
			mode = strtoul(optarg, &end, 8);
			if (*end || !*optarg || mode > 07777) {
				fprintf(stderr, "nm-vm: bad mode '%s' (octal, e.g. 660)\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, 2);
		}
	}
	if (strcmp(cmd, "export") == 0) {
		if (!sock || optind >= argc) {
			fprintf(stderr, "nm-vm: export needs -s SOCKET and at least one port\n");
			return 2;
		}
		return cmd_export(sock, name, (unsigned)vectors, (unsigned)mode, argv + optind,
				  argc - optind);
	}
	if (optind != argc) {
		fprintf(stderr, "nm-vm: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (strcmp(cmd, "unexport") == 0) {
		if (!sock && !name) {
			fprintf(stderr, "nm-vm: unexport needs -s SOCKET or -n NAME\n");
			return 2;
		}
		return cmd_unexport(sock, name);
	}
	if (strcmp(cmd, "list") == 0)
		return cmd_list();
	fprintf(stderr, "nm-vm: unknown command '%s'\n", cmd);
	usage(stderr, 2);
	return 2;
}
