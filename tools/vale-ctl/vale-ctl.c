/*
 * vale-ctl - manage VALE switches: list their ports, create and remove
 * persistent ports, attach them to and detach them from switches, show
 * per-port counters, load forwarding modules and configure them.
 *
 * Command line, output and exit status are those of netmap's vale-ctl
 * (see vale-ctl.8), so scripts written for it keep working; -s (counters),
 * -M (monitors and what they lost), --module and --config, and VM ports
 * (-n with --vhost-user) are unetmap's own.  Like netmap's, it talks to
 * the system only through /dev/netmap: NIOCCTRL requests, and NIOCCONFIG.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libnetmap.h>

#include "unm_nic.h"
#include "unm_mon.h"
#include "unm_reason.h"	/* why netmapd refused: this tool links libnetmap.a */
#include "unm_vale.h"
#include "unm_vxlan.h"

static int verbose;

struct ctl {
	const char *name;	/* the action's argument */
	const char *config;	/* -C */
	const char *mem_id;	/* -m */
	uint16_t reqtype;	/* 0: none chosen */
	uint32_t mode;		/* attach: NR_REG_ALL_NIC or NR_REG_NIC_SW */
	const char *vhost;	/* -n with --vhost-user: the socket */
	bool client;		/* --client */
	uint64_t features;	/* --features */
	bool nioc;		/* --config: NIOCCONFIG, not NIOCCTRL */
	int nargs;		/* --module, --config: the words after the switch */
	char **args;
};

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"Usage:\n"
		"vale-ctl [arguments]\n"
		"\t-g interface	interface name to get info\n"
		"\t-d interface	interface name to be detached\n"
		"\t-a interface	interface name to be attached\n"
		"\t-h interface	interface name to be attached with the host stack\n"
		"\t-n interface	interface name to be created\n"
		"\t-r interface	interface name to be deleted\n"
		"\t-l vale-port	show bridge and port indices\n"
		"\t-s port|switch	show packet counters of a port or of every port of a switch\n"
		"\t-M port|all	list the monitors of a port (of every port) and their counters\n"
		"\t-C string ring/slot setting of an interface creating by -n\n"
		"\t-p interface start polling. Additional -C x,y,z configures\n"
		"\t\t x: 0 (REG_ALL_NIC) or 1 (REG_ONE_NIC),\n"
		"\t\t y: CPU core id for ALL_NIC and core/ring for ONE_NIC\n"
		"\t\t z: (ONE_NIC only) num of total cores/rings\n"
		"\t-P interface stop polling\n"
		"\t-m memid to use when creating a new interface\n"
		"\t-v increase verbosity\n"
		"\t-n valeX:port --vhost-user PATH [--client] [--features HEX]\n"
		"\t\tcreate a VM port: a QEMU guest's virtio-net NIC on the switch,\n"
		"\t\tnetmapd serving the vhost-user socket PATH (with --client,\n"
		"\t\tconnecting to QEMU's socket there); -r removes it\n"
		"\t--module switch [path [args...]]\n"
		"\t\tload the module at path into the switch (args go to it),\n"
		"\t\tor with path 'default' go back to the learning bridge;\n"
		"\t\twithout path: show the switch's module and its counters\n"
		"\t--config switch words...\n"
		"\t\tNIOCCONFIG: give the words to the switch's module\n"
		"\t-H, --help this text\n"
		"with no arguments: list all existing vale ports\n");
	exit(status);
}

/* -C tx_slots[,rx_slots[,tx_rings[,rx_rings]]]: one slot count sets both
 * directions, and so does the first ring count. */
static void parse_rings(const char *conf, uint32_t *txs, uint32_t *rxs, uint16_t *txr,
			uint16_t *rxr)
{
	const char *p = conf;
	int i;

	*txs = *rxs = 0;
	*txr = *rxr = 0;
	for (i = 0; p && *p; i++) {
		const char *comma = strchr(p, ',');
		int v = atoi(p);

		switch (i) {
		case 0: *txs = *rxs = (uint32_t)v; break;
		case 1: *rxs = (uint32_t)v; break;
		case 2: *txr = *rxr = (uint16_t)v; break;
		case 3: *rxr = (uint16_t)v; break;
		default:
			fprintf(stderr, "ignored config: %.*s",
				comma ? (int)(comma - p) : (int)strlen(p), p);
			break;
		}
		p = comma ? comma + 1 : NULL;
	}
}

/* -C mode,cpu[,ncpus] for -p/-P.  Problems are reported and, as netmap's
 * vale-ctl does, the request is sent anyway. */
static void parse_polling(const char *conf, struct nmreq_vale_polling *pl)
{
	const char *p = conf;
	int i;

	if (!conf || !*conf) {
		fprintf(stderr, "invalid null/empty config\n");
		return;
	}
	for (i = 0; p && *p; i++) {
		const char *comma = strchr(p, ',');
		int v = atoi(p);

		if (i == 0) {
			pl->nr_mode = v ? NETMAP_POLLING_MODE_MULTI_CPU :
				      NETMAP_POLLING_MODE_SINGLE_CPU;
		} else if (i == 1) {
			pl->nr_first_cpu_id = (uint32_t)v;
		} else if (i == 2 && pl->nr_mode == NETMAP_POLLING_MODE_MULTI_CPU) {
			pl->nr_num_polling_cpus = (uint32_t)v;
		} else {
			fprintf(stderr, "too many numbers in '%s'\n", conf);
			return;
		}
		p = comma ? comma + 1 : NULL;
	}
}

/* -m: a number, or a port whose memory region is meant. */
static int32_t parse_mem_id(const char *spec)
{
	const char *s = spec;
	int32_t id;

	if (!spec)
		return 0;
	if (isdigit((unsigned char)*spec))
		return atoi(spec);
	id = nmreq_get_mem_id(&s, nmctx_get());
	if (id <= 0) {
		fprintf(stderr, "invalid format in '-m %s' (missing 'netmap:'?)\n", spec);
		return -1;
	}
	return id;
}

/* No arguments: every port of every switch.  netmap's vale-ctl exits with
 * status 1 here even when all went well; so do we. */
static int list_all(int fd)
{
	struct nmreq_header hdr;
	struct nmreq_vale_list l;

	memset(&l, 0, sizeof(l));
	nmreq_header_init(&hdr, NETMAP_REQ_VALE_LIST, &l);
	for (;;) {
		hdr.nr_name[0] = '\0';
		if (ioctl(fd, NIOCCTRL, &hdr) < 0) {
			if (errno == ENOENT)
				break;
			fprintf(stderr, "failed to list all: %s\n", strerror(errno));
			return 1;
		}
		printf("%s bridge_idx %" PRIu16 " port_idx %" PRIu32 "\n", hdr.nr_name,
		       l.nr_bridge_idx, l.nr_port_idx);
		l.nr_port_idx++;
	}
	return 1;
}

/* The line -s adds for a VM port; nothing for other ports. */
static void print_vhost(int fd, const char *port)
{
	struct nmreq_header hdr;
	struct unm_vale_vhost vh;

	memset(&vh, 0, sizeof(vh));
	vh.op = UNM_VHOST_INFO;
	nmreq_header_init(&hdr, UNM_REQ_VALE_VHOST, &vh);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", port);
	if (ioctl(fd, NIOCCTRL, &hdr) < 0)
		return;
	vh.path[sizeof(vh.path) - 1] = '\0';
	printf("%s vhost-user %s %s %s%s features 0x%" PRIx64 " negotiated 0x%" PRIx64
	       " mtu %u connections %" PRIu64 " breaks %" PRIu64 "\n", port, vh.path,
	       vh.flags & UNM_VHOST_CLIENT ? "client" : "server",
	       vh.state & UNM_VHOST_CONNECTED ? "connected" : "waiting",
	       vh.state & UNM_VHOST_BROKEN ? " broken" :
	       vh.state & UNM_VHOST_RUNNING ? " running" : "", vh.features, vh.negotiated,
	       (unsigned)vh.mtu, vh.connections, vh.breaks);
}

/*
 * unetmap: for a network interface (an open netmap port, or one attached
 * to a switch as "valeX:IFNAME"), how it is reached and what the kernel
 * dropped on its way to the port.  0 if there is such an interface, -1
 * (errno ENXIO) if not.
 */
static int nic_info(int fd, const char *name, struct unm_nic_info *ni)
{
	struct nmreq_header hdr;

	memset(ni, 0, sizeof(*ni));
	nmreq_header_init(&hdr, UNM_REQ_NIC_INFO, ni);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	return ioctl(fd, NIOCCTRL, &hdr);
}

static int print_stats(int fd, const char *port)
{
	struct nmreq_header hdr;
	struct unm_vale_stats st;
	struct unm_nic_info ni;

	memset(&st, 0, sizeof(st));
	nmreq_header_init(&hdr, UNM_REQ_VALE_STATS, &st);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", port);
	if (ioctl(fd, NIOCCTRL, &hdr) < 0)
		return -1;
	printf("%s rx_pkts %" PRIu64 " rx_bytes %" PRIu64 " rx_drops %" PRIu64
	       " tx_pkts %" PRIu64 " tx_bytes %" PRIu64 " tx_drops %" PRIu64
	       " errors %" PRIu64 "\n", port, st.rx_pkts, st.rx_bytes, st.rx_drops,
	       st.tx_pkts, st.tx_bytes, st.tx_drops, st.errors);
	/* an attached interface: the kernel's side of it, on a line of its
	 * own so that the line above keeps one format */
	if (nic_info(fd, port, &ni) == 0) {
		char mode[48];

		/* the mode as words without spaces (native+copy), so that
		 * the line splits on blanks like the one above */
		printf("%s kernel %s rx_drops %" PRIu64 " rx_ring_full %" PRIu64
		       " rx_fill_empty %" PRIu64 " rx_invalid %" PRIu64 " tx_invalid %" PRIu64 "\n",
		       port, unm_nic_mode_str(ni.mode, mode, sizeof(mode)), ni.rx_drops,
		       ni.rx_ring_full, ni.rx_fill_empty, ni.rx_invalid, ni.tx_invalid);
	}
	print_vhost(fd, port);
	/* an attached VXLAN tunnel: what it sent, received and refused */
	if (strstr(port, UNM_VXLAN_PREFIX)) {
		struct unm_vxlan_stats vs;

		memset(&vs, 0, sizeof(vs));
		nmreq_header_init(&hdr, UNM_REQ_VXLAN_STATS, &vs);
		snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", port);
		if (ioctl(fd, NIOCCTRL, &hdr) == 0)
			printf("%s tunnel vni %" PRIu32 " tx_pkts %" PRIu64 " tx_drops %" PRIu64
			       " rx_pkts %" PRIu64 " rx_wrong_vni %" PRIu64 " rx_bad %" PRIu64
			       " rx_foreign %" PRIu64 " rx_invalid %" PRIu64 "\n", port, vs.vni,
			       vs.tx_pkts, vs.tx_drops, vs.rx_pkts, vs.rx_wrong_vni, vs.rx_bad,
			       vs.rx_foreign, vs.rx_invalid);
	}
	return 0;
}

/* netmapd's reason for the last refusal, as ": reason", or "" */
static const char *why(void)
{
	static char buf[300];

	snprintf(buf, sizeof(buf), "%s%s", unm_reason()[0] ? ": " : "", unm_reason());
	return buf;
}

/* One line of key-value pairs, as -s prints them; the arguments last,
 * since they are free text. */
static void print_module(const char *sw, const struct unm_vale_module_req *mr)
{
	char name[sizeof(mr->name)];
	size_t i;

	snprintf(name, sizeof(name), "%s", mr->name[0] ? mr->name : "?");
	for (i = 0; name[i]; i++)
		if (isspace((unsigned char)name[i]))
			name[i] = '_';
	printf("%s module %s forwarded %" PRIu64 " broadcast %" PRIu64 " dropped %" PRIu64
	       " invalid %" PRIu64 " path %s args %s\n", sw, name, mr->forwarded, mr->broadcast,
	       mr->dropped, mr->invalid, mr->path[0] ? mr->path : "-", mr->args);
}

static int module_req(int fd, const char *sw, struct unm_vale_module_req *mr)
{
	struct nmreq_header hdr;

	nmreq_header_init(&hdr, UNM_REQ_VALE_MODULE, mr);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", sw);
	return ioctl(fd, NIOCCTRL, &hdr);
}

/* --module SWITCH [PATH [ARGS...]] */
static int module(int fd, const struct ctl *c)
{
	static struct unm_vale_module_req mr;
	const char *action = "obtain the module of";
	size_t used = 0;
	uint32_t cmd;
	int i;

	memset(&mr, 0, sizeof(mr));
	mr.cmd = UNM_VALE_MOD_INFO;
	if (c->nargs > 0 && strcmp(c->args[0], "default") == 0) {
		if (c->nargs > 1) {
			fprintf(stderr, "--module %s default takes no arguments\n", c->name);
			return 1;
		}
		mr.cmd = UNM_VALE_MOD_UNLOAD;
		action = "restore the learning bridge in";
	} else if (c->nargs > 0) {
		const char *path = c->args[0];
		char real[PATH_MAX];

		/* netmapd resolves the path, but not from our directory */
		if (path[0] != '/') {
			if (!realpath(path, real)) {
				fprintf(stderr, "failed to load module %s: %s\n", path, strerror(errno));
				return 1;
			}
			path = real;
		}
		if (strlen(path) >= sizeof(mr.path)) {
			fprintf(stderr, "failed to load module %s: path too long\n", path);
			return 1;
		}
		memcpy(mr.path, path, strlen(path) + 1);
		for (i = 1; i < c->nargs; i++) {
			size_t l = strlen(c->args[i]);

			if (used + l + 2 > sizeof(mr.args)) {
				fprintf(stderr, "failed to load module %s: arguments longer than %zu "
					"bytes\n", path, sizeof(mr.args) - 1);
				return 1;
			}
			if (used)
				mr.args[used++] = ' ';
			memcpy(mr.args + used, c->args[i], l + 1);
			used += l;
		}
		mr.cmd = UNM_VALE_MOD_LOAD;
		action = "load a module into";
	}
	cmd = mr.cmd;		/* the reply overwrites it */
	if (module_req(fd, c->name, &mr) < 0) {
		fprintf(stderr, "failed to %s %s: %s%s\n", action, c->name, strerror(errno), why());
		return 1;
	}
	if (cmd == UNM_VALE_MOD_INFO || verbose)
		print_module(c->name, &mr);
	return 0;
}

/* --config SWITCH WORDS...: netmap's NIOCCONFIG, the words joined by
 * spaces as the data (a module that takes text reads them; mmctl-style
 * binary layouts need a program of their own). */
static int config(int fd, const struct ctl *c)
{
	struct nm_ifreq req;
	size_t used = 0;
	int i;

	memset(&req, 0, sizeof(req));
	snprintf(req.nifr_name, sizeof(req.nifr_name), "%s", c->name);
	for (i = 0; i < c->nargs; i++) {
		size_t l = strlen(c->args[i]);

		if (used + l + 2 > sizeof(req.data)) {
			fprintf(stderr, "failed to configure %s: more than %zu bytes\n", c->name,
				sizeof(req.data) - 1);
			return 1;
		}
		if (used)
			req.data[used++] = ' ';
		memcpy(req.data + used, c->args[i], l + 1);
		used += l;
	}
	if (ioctl(fd, NIOCCONFIG, &req) < 0) {
		fprintf(stderr, "failed to configure %s: %s%s\n", c->name, strerror(errno), why());
		return 1;
	}
	return 0;
}

/* -n NAME --vhost-user PATH: netmapd's working directory is not ours, so a
 * relative PATH is made absolute here. */
static int create_vhost(int fd, const struct ctl *c)
{
	struct nmreq_header hdr;
	struct unm_vale_vhost vh;
	char cwd[PATH_MAX];
	int n;

	memset(&vh, 0, sizeof(vh));
	vh.op = UNM_VHOST_CREATE;
	vh.flags = c->client ? UNM_VHOST_CLIENT : 0;
	vh.features = c->features;
	if (c->vhost[0] == '/') {
		n = snprintf(vh.path, sizeof(vh.path), "%s", c->vhost);
	} else {
		if (!getcwd(cwd, sizeof(cwd))) {
			perror("getcwd");
			return 1;
		}
		n = snprintf(vh.path, sizeof(vh.path), "%s/%s", strcmp(cwd, "/") ? cwd : "",
			     c->vhost);
	}
	if (n < 0 || (size_t)n >= sizeof(vh.path)) {
		fprintf(stderr, "socket path too long (at most %zu bytes): %s\n",
			sizeof(vh.path) - 1, c->vhost);
		return 1;
	}
	nmreq_header_init(&hdr, UNM_REQ_VALE_VHOST, &vh);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", c->name);
	if (ioctl(fd, NIOCCTRL, &hdr) < 0) {
		fprintf(stderr, "failed to create %s: %s\n", c->name, strerror(errno));
		if (verbose)
			fprintf(stderr, "(netmapd's log says why)\n");
		return 1;
	}
	if (verbose) {
		printf("vhost-user: %s (%s)\n", vh.path, c->client ? "client" : "server");
		printf("features:   0x%" PRIx64 "\n", vh.features);
	}
	return 0;
}

/* -s: a port ("vale0:a", or a persistent "v0"), or every port of a switch
 * ("vale0"): the switch's module first. */
static int stats(int fd, const char *name)
{
	struct nmreq_header hdr;
	struct nmreq_vale_list l;
	uint16_t bridge;
	size_t nl = strlen(name);

	if (strchr(name, ':') || strncmp(name, NM_BDG_NAME, strlen(NM_BDG_NAME)) != 0) {
		if (print_stats(fd, name) < 0)
			goto fail;
		return 0;
	}
	{
		static struct unm_vale_module_req mr;

		memset(&mr, 0, sizeof(mr));
		mr.cmd = UNM_VALE_MOD_INFO;
		if (module_req(fd, name, &mr) < 0)
			goto fail;
		print_module(name, &mr);
	}
	memset(&l, 0, sizeof(l));
	nmreq_header_init(&hdr, NETMAP_REQ_VALE_LIST, &l);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	if (ioctl(fd, NIOCCTRL, &hdr) < 0) {
		if (errno == ENOENT)
			return 0;	/* a switch kept by its module alone */
		goto fail;
	}
	bridge = l.nr_bridge_idx;
	l.nr_port_idx = 0;
	for (;;) {
		hdr.nr_name[0] = '\0';
		if (ioctl(fd, NIOCCTRL, &hdr) < 0) {
			if (errno == ENOENT)
				return 0;
			goto fail;
		}
		if (l.nr_bridge_idx != bridge)
			return 0;
		if (strncmp(hdr.nr_name, name, nl) == 0 && hdr.nr_name[nl] == ':' &&
		    print_stats(fd, hdr.nr_name) < 0 && errno != ENXIO)
			goto fail;	/* ENXIO: it went away meanwhile */
		l.nr_port_idx++;
	}
fail:
	fprintf(stderr, "failed to obtain counters for %s: %s\n", name, strerror(errno));
	return 1;
}

/* -M: the monitors of a port (any kind), or of every port ("all"), with
 * what they mirrored and what they lost (UNM_REQ_MON_STATS). */
static int monitors(int fd, const char *port)
{
	struct nmreq_header hdr;
	struct unm_mon_stats st;
	uint32_t idx = 0;

	for (;;) {
		memset(&st, 0, sizeof(st));
		st.idx = idx;
		nmreq_header_init(&hdr, UNM_REQ_MON_STATS, &st);
		if (strcmp(port, "all") != 0)
			snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", port);
		if (ioctl(fd, NIOCCTRL, &hdr) < 0) {
			if (errno == ENOENT)
				return 0;
			fprintf(stderr, "failed to list the monitors of %s: %s\n", port,
				strerror(errno));
			return 1;
		}
		printf("%s parent %s%s pkts %" PRIu64 " drops %" PRIu64 " busy %" PRIu64 "\n",
		       st.name, st.parent, (st.flags & UNM_MON_ORPHAN) ? " (orphaned)" : "",
		       st.pkts, st.drops, st.busy);
		idx = st.idx + 1;
	}
}

static int run(const struct ctl *c)
{
	struct nmreq_header hdr;
	struct nmreq_vale_attach attach;
	struct nmreq_vale_detach detach;
	struct nmreq_vale_newif newif;
	struct nmreq_vale_list list;
	struct nmreq_vale_polling polling;
	struct nmreq_port_info_get info;
	struct unm_nic_info ni;
	const char *action = "";
	int32_t mem_id;
	int fd, rc = 0;

	fd = open("/dev/netmap", O_RDWR);
	if (fd < 0) {
		perror("/dev/netmap");
		return 1;
	}
	if (c->reqtype == UNM_REQ_VALE_STATS || c->reqtype == UNM_REQ_MON_STATS) {
		rc = c->reqtype == UNM_REQ_VALE_STATS ? stats(fd, c->name) : monitors(fd, c->name);
		close(fd);
		return rc;
	}
	if (c->reqtype == UNM_REQ_VALE_MODULE) {
		rc = c->nioc ? config(fd, c) : module(fd, c);
		close(fd);
		return rc;
	}
	if (c->vhost) {
		rc = create_vhost(fd, c);
		close(fd);
		return rc;
	}
	nmreq_header_init(&hdr, c->reqtype, NULL);
	if (c->name)
		snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", c->name);
	switch (c->reqtype) {
	case NETMAP_REQ_VALE_DELIF:
		action = "remove";
		break;
	case NETMAP_REQ_VALE_NEWIF:
		memset(&newif, 0, sizeof(newif));
		parse_rings(c->config, &newif.nr_tx_slots, &newif.nr_rx_slots,
			    &newif.nr_tx_rings, &newif.nr_rx_rings);
		mem_id = parse_mem_id(c->mem_id);
		if (mem_id < 0) {
			close(fd);
			return 1;
		}
		newif.nr_mem_id = (uint16_t)mem_id;
		hdr.nr_body = (uintptr_t)&newif;
		action = "create";
		break;
	case NETMAP_REQ_VALE_ATTACH:
		memset(&attach, 0, sizeof(attach));
		attach.reg.nr_mode = c->mode;
		parse_rings(c->config, &attach.reg.nr_tx_slots, &attach.reg.nr_rx_slots,
			    &attach.reg.nr_tx_rings, &attach.reg.nr_rx_rings);
		mem_id = parse_mem_id(c->mem_id);
		if (mem_id < 0) {
			close(fd);
			return 1;
		}
		attach.reg.nr_mem_id = (uint16_t)mem_id;
		hdr.nr_body = (uintptr_t)&attach;
		action = "attach";
		break;
	case NETMAP_REQ_VALE_DETACH:
		memset(&detach, 0, sizeof(detach));
		hdr.nr_body = (uintptr_t)&detach;
		action = "detach";
		break;
	case NETMAP_REQ_VALE_LIST:
		if (!c->name) {
			rc = list_all(fd);
			close(fd);
			return rc;
		}
		memset(&list, 0, sizeof(list));
		hdr.nr_body = (uintptr_t)&list;
		action = "list";
		break;
	case NETMAP_REQ_VALE_POLLING_ENABLE:
	case NETMAP_REQ_VALE_POLLING_DISABLE:
		memset(&polling, 0, sizeof(polling));
		parse_polling(c->config, &polling);
		hdr.nr_body = (uintptr_t)&polling;
		action = c->reqtype == NETMAP_REQ_VALE_POLLING_ENABLE ? "enable polling on" :
			 "disable polling on";
		break;
	case NETMAP_REQ_PORT_INFO_GET:
		memset(&info, 0, sizeof(info));
		hdr.nr_body = (uintptr_t)&info;
		action = "obtain info for";
		break;
	}
	if (ioctl(fd, NIOCCTRL, &hdr) < 0) {
		int e = errno;

		fprintf(stderr, "failed to %s %s: %s\n", action, c->name, strerror(e));
		if (verbose)
			fprintf(stderr, "(netmapd's log says why)\n");
		close(fd);
		return 1;
	}
	switch (c->reqtype) {
	case NETMAP_REQ_VALE_NEWIF:
		if (verbose) {
			printf("tx_slots:   %" PRIu32 "\n", newif.nr_tx_slots);
			printf("rx_slots:   %" PRIu32 "\n", newif.nr_rx_slots);
			printf("tx_rings:   %" PRIu16 "\n", newif.nr_tx_rings);
			printf("rx_ring:    %" PRIu16 "\n", newif.nr_rx_rings);
			printf("mem_id:     %" PRIu16 "\n", newif.nr_mem_id);
		}
		break;
	case NETMAP_REQ_VALE_ATTACH:
		if (verbose)
			printf("port_index: %" PRIu32 "\n", attach.port_index);
		break;
	case NETMAP_REQ_VALE_DETACH:
		if (verbose)
			printf("port_index: %" PRIu32 "\n", detach.port_index);
		break;
	case NETMAP_REQ_VALE_LIST:
		printf("bridge_idx: %" PRIu16 "\n", list.nr_bridge_idx);
		printf("port_idx:   %" PRIu16 "\n", (uint16_t)list.nr_port_idx);
		break;
	case NETMAP_REQ_PORT_INFO_GET:
		printf("memsize:    %" PRIu64 "\n", info.nr_memsize);
		printf("tx_slots:   %" PRIu32 "\n", info.nr_tx_slots);
		printf("rx_slots:   %" PRIu32 "\n", info.nr_rx_slots);
		printf("tx_rings:   %" PRIu16 "\n", info.nr_tx_rings);
		printf("rx_rings    %" PRIu16 "\n", info.nr_rx_rings);
		printf("mem_id:     %" PRIu16 "\n", info.nr_mem_id);
		/* unetmap: an interface with a netmap port open on it */
		if (nic_info(fd, strncmp(c->name, "netmap:", 7) ? c->name : c->name + 7, &ni) == 0)
			printf("mode:       %s\n", unm_nic_mode_desc(ni.mode));
		break;
	}
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	/* the words after --module and --config may look like options:
	 * stop at the first non-option ('+') */
	static const struct option lopts[] = {
		{ "module", required_argument, NULL, 'O' },
		{ "config", required_argument, NULL, 'K' },
		{ "vhost-user", required_argument, NULL, 'U' },
		{ "client", no_argument, NULL, 'L' },
		{ "features", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c = { .mode = NR_REG_ALL_NIC };
	bool words = false;
	char *end;
	int ch;

	while ((ch = getopt_long(argc, argv, "+d:a:h:g:l:n:r:s:M:C:p:P:m:vH", lopts, NULL)) != -1) {
		switch (ch) {
		case 'O':
		case 'K':
			c.reqtype = UNM_REQ_VALE_MODULE;
			c.nioc = ch == 'K';
			c.name = optarg;
			words = true;
			break;
		case 'H':
			usage(0);
			break;
		case 'd': c.reqtype = NETMAP_REQ_VALE_DETACH; c.name = optarg; break;
		case 'a':
			c.reqtype = NETMAP_REQ_VALE_ATTACH;
			c.mode = NR_REG_ALL_NIC;
			c.name = optarg;
			break;
		case 'h':
			c.reqtype = NETMAP_REQ_VALE_ATTACH;
			c.mode = NR_REG_NIC_SW;
			c.name = optarg;
			break;
		case 'n': c.reqtype = NETMAP_REQ_VALE_NEWIF; c.name = optarg; break;
		case 'r': c.reqtype = NETMAP_REQ_VALE_DELIF; c.name = optarg; break;
		case 'g': c.reqtype = NETMAP_REQ_PORT_INFO_GET; c.name = optarg; break;
		case 'l':
			c.reqtype = NETMAP_REQ_VALE_LIST;
			c.name = optarg;
			if (strncmp(optarg, NM_BDG_NAME, strlen(NM_BDG_NAME)) != 0) {
				fprintf(stderr, "invalid vale port name: '%s'\n", optarg);
				usage(1);
			}
			break;
		case 's': c.reqtype = UNM_REQ_VALE_STATS; c.name = optarg; break;
		case 'M': c.reqtype = UNM_REQ_MON_STATS; c.name = optarg; break;
		case 'C': c.config = optarg; break;
		case 'p': c.reqtype = NETMAP_REQ_VALE_POLLING_ENABLE; c.name = optarg; break;
		case 'P': c.reqtype = NETMAP_REQ_VALE_POLLING_DISABLE; c.name = optarg; break;
		case 'm': c.mem_id = optarg; break;
		case 'v': verbose++; break;
		case 'U': c.vhost = optarg; break;
		case 'L': c.client = true; break;
		case 'F':
			errno = 0;
			c.features = strtoull(optarg, &end, 16);
			if (errno || end == optarg || *end) {
				fprintf(stderr, "invalid --features '%s' (hexadecimal)\n", optarg);
				usage(1);
			}
			break;
		default:
			usage(1);
		}
	}
	if (words) {
		c.nargs = argc - optind;
		c.args = argv + optind;
		if (c.nioc && c.nargs == 0) {
			fprintf(stderr, "--config %s: nothing to send\n", c.name);
			usage(1);
		}
	} else if (optind != argc) {
		usage(1);
	}
	if ((c.client || c.features) && !c.vhost) {
		fprintf(stderr, "--client and --features go with --vhost-user\n");
		usage(1);
	}
	if (c.vhost && (c.reqtype != NETMAP_REQ_VALE_NEWIF || !c.vhost[0])) {
		fprintf(stderr, "--vhost-user PATH goes with -n valeX:port\n");
		usage(1);
	}
	if (argc == 1) {
		c.reqtype = NETMAP_REQ_VALE_LIST;
		c.name = NULL;
	}
	if (!c.reqtype)
		usage(1);
	return run(&c);
}
