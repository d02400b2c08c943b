/*
 * seeds - writes the seed corpora of the fuzz targets (tests/fuzz/corpus/)
 * from the real structures, so that they stay right when a structure
 * changes: `make fuzz-seeds`.  Not part of the build otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net/netmap.h>

#include "unm_mon.h"
#include "unm_nmreq.h"
#include "unm_vale.h"
#include "unm_wire.h"

static const char *dir;
static int nfiles;

/* the conversation being built for fuzz_ctl: [mode][len LE16][bytes] */
static unsigned char conv[65536];
static size_t conv_len;

static void conv_add(const void *msg, size_t len)
{
	conv[conv_len++] = 3;	/* fix header and body length */
	conv[conv_len++] = (unsigned char)len;
	conv[conv_len++] = (unsigned char)(len >> 8);
	memcpy(conv + conv_len, msg, len);
	conv_len += len;
}

static void write_file(const char *sub, const char *name, const void *p, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len) {
		fprintf(stderr, "seeds: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fclose(f);
	nfiles++;
}

static void conv_flush(const char *name)
{
	write_file("ctl", name, conv, conv_len);
	conv_len = 0;
}

static void hello(void)
{
	struct {
		struct unm_msg_hdr h;
		struct unm_msg_hello b;
	} m;

	memset(&m, 0, sizeof(m));
	m.h.type = UNM_MSG_HELLO;
	m.b.version = UNM_WIRE_VERSION;
	conv_add(&m, sizeof(m));
}

static void nmreq(uint16_t type, const char *name, const void *body, size_t blen)
{
	static unsigned char buf[4096];
	struct unm_msg_hdr *h = (struct unm_msg_hdr *)(void *)buf;
	struct unm_msg_nmreq *m = (struct unm_msg_nmreq *)(void *)(h + 1);

	memset(buf, 0, sizeof(*h) + sizeof(*m));
	h->type = UNM_MSG_NMREQ;
	m->hdr.nr_version = NETMAP_API;
	m->hdr.nr_reqtype = type;
	snprintf(m->hdr.nr_name, sizeof(m->hdr.nr_name), "%s", name);
	m->body_len = (uint32_t)blen;
	memcpy(m + 1, body, blen);
	conv_add(buf, sizeof(*h) + sizeof(*m) + blen);
}

static void reg(const char *name, uint32_t mode, uint64_t flags, uint16_t mem_id, uint32_t extra)
{
	struct nmreq_register r;

	memset(&r, 0, sizeof(r));
	r.nr_mode = mode;
	r.nr_flags = flags;
	r.nr_mem_id = mem_id;
	r.nr_extra_bufs = extra;
	nmreq(NETMAP_REQ_REGISTER, name, &r, sizeof(r));
}

static void simple(uint16_t type)
{
	struct unm_msg_hdr h;

	memset(&h, 0, sizeof(h));
	h.type = type;
	conv_add(&h, sizeof(h));
}

int main(int argc, char **argv)
{
	struct nmreq_port_info_get pi;
	struct nmreq_pools_info po;
	struct nmreq_vale_newif nf;
	struct nmreq_vale_list vl;
	struct nmreq_vale_attach va;
	struct nmreq_port_hdr ph;
	struct unm_vale_stats st;
	struct unm_port_seal sl;
	struct unm_mon_targets mt;
	struct unm_mon_stats ms;
	static const char *specs[] = {
		"netmap:eth0", "netmap:x{1", "netmap:x}1/T", "vale0:a", "vale0:a^", "valeX:p*",
		"netmap:p{3/xT@7", "netmap:eth0-2/R@conf:rings=4,slots=512", "null:foo",
		"netmap:eth0@extmem:file=/tmp/x,if-num=4", "vale1:b@offset=64",
		"netmap:em0.123/rz", "netmap:a@share=vale0:b", "netmap:x{1@conf:nic=native+copy",
	};
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: seeds DIR (tests/fuzz/corpus)\n");
		return 2;
	}
	dir = argv[1];

	hello();
	reg("sd{1", NR_REG_ALL_NIC, 0, 0, 0);
	conv_flush("register_pipe");
	reg("valesd:a", NR_REG_ALL_NIC, NR_EXCLUSIVE, 0, 10);
	simple(UNM_MSG_ADOPT);
	conv_flush("register_vale_adopt");
	reg("sd}2", NR_REG_ONE_NIC, 0, 1, 100);
	simple(UNM_MSG_UNBIND);
	reg("null:x", NR_REG_NULL, 0, 1, 0);
	conv_flush("register_null_unbind");
	memset(&pi, 0, sizeof(pi));
	nmreq(NETMAP_REQ_PORT_INFO_GET, "valesd:b", &pi, sizeof(pi));
	memset(&po, 0, sizeof(po));
	nmreq(NETMAP_REQ_POOLS_INFO_GET, "sd{1", &po, sizeof(po));
	memset(&ph, 0, sizeof(ph));
	nmreq(NETMAP_REQ_PORT_HDR_GET, "null:y", &ph, sizeof(ph));
	conv_flush("info");
	memset(&nf, 0, sizeof(nf));
	nmreq(NETMAP_REQ_VALE_NEWIF, "sdv0", &nf, sizeof(nf));
	memset(&va, 0, sizeof(va));
	va.reg.nr_mode = NR_REG_ALL_NIC;
	nmreq(NETMAP_REQ_VALE_ATTACH, "valesd:sdv0", &va, sizeof(va));
	memset(&vl, 0, sizeof(vl));
	nmreq(NETMAP_REQ_VALE_LIST, "", &vl, sizeof(vl));
	memset(&st, 0, sizeof(st));
	nmreq(UNM_REQ_VALE_STATS, "valesd:sdv0", &st, sizeof(st));
	ph.nr_hdr_len = 12;
	nmreq(NETMAP_REQ_PORT_HDR_SET, "valesd:sdv0", &ph, sizeof(ph));
	nmreq(NETMAP_REQ_VALE_DETACH, "valesd:sdv0", &va, sizeof(struct nmreq_vale_detach));
	nmreq(NETMAP_REQ_VALE_DELIF, "sdv0", NULL, 0);
	conv_flush("vale_persistent");
	reg("valesd:c", NR_REG_ALL_NIC, 0, 0, 0);
	memset(&sl, 0, sizeof(sl));
	snprintf(sl.holder, sizeof(sl.holder), "vm");
	nmreq(UNM_REQ_PORT_SEAL, "valesd:c", &sl, sizeof(sl));
	reg("valesd:c{1", NR_REG_ALL_NIC, 0, 0, 0);
	conv_flush("seal");
	/* monitors: a monitor of a port nobody binds, then the monitored
	 * side's questions on a binding of its own */
	reg("sd{4", NR_REG_ALL_NIC, NR_MONITOR_RX | NR_MONITOR_TX, 0, 0);
	reg("sd{4", NR_REG_ALL_NIC, 0, 0, 0);
	memset(&mt, 0, sizeof(mt));
	mt.dir = 1;
	nmreq(UNM_REQ_MON_TARGETS, "", &mt, sizeof(mt));
	memset(&ms, 0, sizeof(ms));
	nmreq(UNM_REQ_MON_STATS, "sd{4", &ms, sizeof(ms));
	ms.flags = UNM_MON_SELF;
	nmreq(UNM_REQ_MON_STATS, "", &ms, sizeof(ms));
	conv_flush("monitor");

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		char name[32];

		snprintf(name, sizeof(name), "spec%02zu", i);
		write_file("portspec", name, specs[i], strlen(specs[i]));
	}
	{
		/* fuzz_rings: [which][where LE16][n][bytes] steps */
		static const unsigned char steps[] = {
			0x00, 0x10, 0x01, 4, 8, 0, 0, 0,	/* A ring head = 8, txsync */
			0x0a, 0x00, 0x01, 4, 3, 0, 0, 0,	/* C ring head, rxsync */
			0x01, 0x00, 0x00, 4, 200, 0, 0, 0,	/* B ctl app_idx out of range */
			0x13, 0x04, 0x01, 4, 0xf0, 0xff, 0xff, 0xff,	/* D ctl hwtail huge */
			0x14, 0x00, 0x01, 8, 1, 0, 0, 0, 1, 0, 0, 0,	/* H: hw txsync */
		};

		write_file("rings", "steps", steps, sizeof(steps));
	}
	printf("seeds: %d files in %s\n", nfiles, dir);
	return 0;
}
