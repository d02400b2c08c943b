/*
 * nm-grant - give a container (or any less trusted party) a netmapd socket
 * of its own, limited to the ports whose names start with a prefix, and
 * take it back (UNM_REQ_GRANT / UNM_REQ_REVOKE, common/unm_vale.h).
 * See nm-grant.8 and docs/containers.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libnetmap.h>

#include "unm_vale.h"

static void usage(FILE *f, int status)
{
	fprintf(f,
		"usage: nm-grant -p PREFIX -H HOLDER [-u UID] [-g GID] [-m MODE] [-n] SOCKET\n"
		"       nm-grant -r SOCKET\n"
		"\n"
		"Make netmapd listen on SOCKET (an absolute path in an existing directory\n"
		"that only you or root can write) for HOLDER: whoever connects there may\n"
		"open only ports whose names start with PREFIX (their pipes included),\n"
		"and every region it binds is sealed for HOLDER.  Bind-mount the socket\n"
		"into a container and set UNETMAP_SOCKET there.\n"
		"\n"
		"  -p PREFIX  port names the holder may open start with this\n"
		"  -H HOLDER  who gets it (a name: the container's id)\n"
		"  -u UID     owner of the socket file (default: yours)\n"
		"  -g GID     its group (default: yours)\n"
		"  -m MODE    its permissions, octal (default 0660)\n"
		"  -n         also interfaces of the holder's own network namespace\n"
		"  -r         revoke: close SOCKET and disconnect its clients\n"
		"  -h         this text\n");
	exit(status);
}

static unsigned long number(const char *s, int base, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || *end || !*s) {
		fprintf(stderr, "nm-grant: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct unm_grant g;
	struct nmreq_header hdr;
	int ch, fd, revoke = 0;

	memset(&g, 0, sizeof(g));
	g.uid = (uint32_t)getuid();
	g.gid = (uint32_t)getgid();
	while ((ch = getopt(argc, argv, "p:H:u:g:m:nrh")) != -1) {
		switch (ch) {
		case 'p': snprintf(g.prefix, sizeof(g.prefix), "%s", optarg); break;
		case 'H': snprintf(g.holder, sizeof(g.holder), "%s", optarg); break;
		case 'u': g.uid = (uint32_t)number(optarg, 10, "uid"); break;
		case 'g': g.gid = (uint32_t)number(optarg, 10, "gid"); break;
		case 'm': g.mode = (uint32_t)number(optarg, 8, "mode"); break;
		case 'n': g.flags |= UNM_GRANT_NIC; break;
		case 'r': revoke = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2);
		}
	}
	if (optind != argc - 1)
		usage(stderr, 2);
	if (strlen(argv[optind]) >= sizeof(g.path)) {
		fprintf(stderr, "nm-grant: socket path too long\n");
		return 2;
	}
	snprintf(g.path, sizeof(g.path), "%s", argv[optind]);
	if (!revoke && (!g.prefix[0] || !g.holder[0]))
		usage(stderr, 2);
	fd = open("/dev/netmap", O_RDWR);
	if (fd < 0) {
		perror("nm-grant: /dev/netmap");
		return 1;
	}
	nmreq_header_init(&hdr, revoke ? UNM_REQ_REVOKE : UNM_REQ_GRANT, &g);
	if (ioctl(fd, NIOCCTRL, &hdr) < 0) {
		fprintf(stderr, "nm-grant: cannot %s %s: %s\n", revoke ? "revoke" : "grant",
			g.path, strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	return 0;
}
