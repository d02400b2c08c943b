/*
 * test_abi - the public headers against netmap's binary interface.
 *
 * Test objective: every size, field offset, constant and ioctl number that
 * netmap applications depend on has netmap's value (API 14, Linux x86-64),
 * and the inline helpers of <net/netmap_user.h> (ring index math, buffer
 * macros, nm_pkt_copy, the legacy nm_* functions that need no system call,
 * the nm_open name parser) behave as netmap's.
 *
 * Operations: offsetof/sizeof/value comparisons, then the helpers run on a
 * fake memory region built in a static array.  No library function and no
 * system call on a netmap descriptor is used, so the program also runs
 * before libnetmap exists:
 *
 *	gcc -std=gnu11 -Wall -Wextra -Werror -Iinclude tests/unit/test_abi.c
 *
 * Prints one line per failed check (expected and actual value) and
 * "test_abi: N checks ok" at the end; exit status 0 on success, 1 on any
 * failure.
 */

#define NETMAP_WITH_LIBS
#define LIBNETMAP_NOTHREADSAFE	/* do not reference the library */
#include <net/netmap_user.h>
#include <libnetmap.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned int checks;
static unsigned int failures;

static void
check_num(const char *what, unsigned long long expected,
	  unsigned long long actual, int line)
{
	checks++;
	if (expected == actual)
		return;
	failures++;
	fprintf(stderr, "test_abi:%d: FAIL %s: expected %lld (0x%llx), "
	    "got %lld (0x%llx)\n", line, what, (long long)expected, expected,
	    (long long)actual, actual);
}

static void
check_str(const char *what, const char *expected, const char *actual,
	  int line)
{
	checks++;
	if (expected != NULL && actual != NULL && strcmp(expected, actual) == 0)
		return;
	failures++;
	fprintf(stderr, "test_abi:%d: FAIL %s: expected \"%s\", got \"%s\"\n",
	    line, what, expected ? expected : "(null)",
	    actual ? actual : "(null)");
}

#define EQ(what, expected, actual)					\
	check_num(what, (unsigned long long)(expected),			\
	    (unsigned long long)(actual), __LINE__)
#define SIZE(type, expected)						\
	EQ("sizeof(" #type ")", expected, sizeof(type))
#define ALIGN(type, expected)						\
	EQ("_Alignof(" #type ")", expected, _Alignof(type))
#define OFF(type, field, expected)					\
	EQ("offsetof(" #type ", " #field ")", expected, offsetof(type, field))
#define VAL(name, expected)	EQ(#name, expected, name)
#define STR(name, expected)	check_str(#name, expected, name, __LINE__)

/* ------------------------------------------------------------------ */
/* shared-memory objects (facts 1.2 - 1.5)                            */
/* ------------------------------------------------------------------ */

static void
test_shared_objects(void)
{
	SIZE(struct netmap_slot, 16);
	ALIGN(struct netmap_slot, 8);
	OFF(struct netmap_slot, buf_idx, 0);
	OFF(struct netmap_slot, len, 4);
	OFF(struct netmap_slot, flags, 6);
	OFF(struct netmap_slot, ptr, 8);

	/* the list of upstream's "binarycomp" test */
	SIZE(struct netmap_ring, 256);
	ALIGN(struct netmap_ring, 128);
	OFF(struct netmap_ring, buf_ofs, 0);
	OFF(struct netmap_ring, num_slots, 8);
	OFF(struct netmap_ring, nr_buf_size, 12);
	OFF(struct netmap_ring, ringid, 16);
	OFF(struct netmap_ring, dir, 18);
	OFF(struct netmap_ring, head, 20);
	OFF(struct netmap_ring, cur, 24);
	OFF(struct netmap_ring, tail, 28);
	OFF(struct netmap_ring, flags, 32);
	OFF(struct netmap_ring, ts, 40);
	OFF(struct netmap_ring, offset_mask, 56);
	OFF(struct netmap_ring, buf_align, 64);
	OFF(struct netmap_ring, sem, 128);
	OFF(struct netmap_ring, slot, 256);
	EQ("sizeof(netmap_ring.ts)", 16, sizeof(struct timeval));
	EQ("sizeof(netmap_ring.sem)", 128,
	    sizeof(((struct netmap_ring *)0)->sem));

	SIZE(struct netmap_if, 56);
	ALIGN(struct netmap_if, 8);
	OFF(struct netmap_if, ni_name, 0);
	OFF(struct netmap_if, ni_version, 16);
	OFF(struct netmap_if, ni_flags, 20);
	OFF(struct netmap_if, ni_tx_rings, 24);
	OFF(struct netmap_if, ni_rx_rings, 28);
	OFF(struct netmap_if, ni_bufs_head, 32);
	OFF(struct netmap_if, ni_host_tx_rings, 36);
	OFF(struct netmap_if, ni_host_rx_rings, 40);
	OFF(struct netmap_if, ni_spare1, 44);
	OFF(struct netmap_if, ring_ofs, 56);
	EQ("sizeof(netmap_if.ring_ofs[0])", 8,
	    sizeof(((struct netmap_if *)0)->ring_ofs[0]));

	VAL(NS_BUF_CHANGED, 0x0001);
	VAL(NS_REPORT, 0x0002);
	VAL(NS_FORWARD, 0x0004);
	VAL(NS_NO_LEARN, 0x0008);
	VAL(NS_INDIRECT, 0x0010);
	VAL(NS_MOREFRAG, 0x0020);
	VAL(NS_TXMON, 0x0040);
	VAL(NS_PORT_SHIFT, 8);
	VAL(NS_PORT_MASK, 0xff00);
	VAL(NETMAP_MAX_FRAGS, 64);
	VAL(NR_TIMESTAMP, 0x0002);
	VAL(NR_FORWARD, 0x0004);
	VAL(NI_PRIV_MEM, 0x1);
	VAL(NM_RING_DIR_TX, 1);
	VAL(NM_RING_DIR_RX, 0);
	VAL(IFNAMSIZ, 16);
	{
		struct netmap_slot s;

		memset(&s, 0, sizeof(s));
		s.flags = (3 << NS_PORT_SHIFT) | NS_MOREFRAG;
		EQ("NS_RFRAGS(flags 0x0320)", 3, NS_RFRAGS(&s));
	}
}

/* ------------------------------------------------------------------ */
/* control requests (facts 2.1 - 2.6)                                 */
/* ------------------------------------------------------------------ */

static void
test_requests(void)
{
	VAL(NETMAP_API, 14);
	VAL(NETMAP_MIN_API, 14);
	VAL(NETMAP_MAX_API, 15);
	VAL(NETMAP_REQ_IFNAMSIZ, 64);
	VAL(NETMAP_REQ_MAXSIZE, 4096);
	STR(NM_BDG_NAME, "vale");
	STR(NETMAP_DEVICE_NAME, "/dev/netmap");

	VAL(NIOCGINFO, 0xc03c6991UL);
	VAL(NIOCREGIF, 0xc03c6992UL);
	VAL(NIOCTXSYNC, 0x6994UL);
	VAL(NIOCRXSYNC, 0x6995UL);
	VAL(NIOCCONFIG, 0xc1106996UL);
	VAL(NIOCCTRL, 0xc0586997UL);

	SIZE(struct nmreq_header, 88);
	OFF(struct nmreq_header, nr_version, 0);
	OFF(struct nmreq_header, nr_reqtype, 2);
	OFF(struct nmreq_header, nr_reserved, 4);
	OFF(struct nmreq_header, nr_name, 8);
	OFF(struct nmreq_header, nr_options, 72);
	OFF(struct nmreq_header, nr_body, 80);

	VAL(NETMAP_REQ_REGISTER, 1);
	VAL(NETMAP_REQ_PORT_INFO_GET, 2);
	VAL(NETMAP_REQ_VALE_ATTACH, 3);
	VAL(NETMAP_REQ_VALE_DETACH, 4);
	VAL(NETMAP_REQ_VALE_LIST, 5);
	VAL(NETMAP_REQ_PORT_HDR_SET, 6);
	VAL(NETMAP_REQ_PORT_HDR_GET, 7);
	VAL(NETMAP_REQ_VALE_NEWIF, 8);
	VAL(NETMAP_REQ_VALE_DELIF, 9);
	VAL(NETMAP_REQ_VALE_POLLING_ENABLE, 10);
	VAL(NETMAP_REQ_VALE_POLLING_DISABLE, 11);
	VAL(NETMAP_REQ_POOLS_INFO_GET, 12);
	VAL(NETMAP_REQ_SYNC_KLOOP_START, 13);
	VAL(NETMAP_REQ_SYNC_KLOOP_STOP, 14);
	VAL(NETMAP_REQ_CSB_ENABLE, 15);

	SIZE(struct nmreq_register, 56);
	OFF(struct nmreq_register, nr_offset, 0);
	OFF(struct nmreq_register, nr_memsize, 8);
	OFF(struct nmreq_register, nr_tx_slots, 16);
	OFF(struct nmreq_register, nr_rx_slots, 20);
	OFF(struct nmreq_register, nr_tx_rings, 24);
	OFF(struct nmreq_register, nr_rx_rings, 26);
	OFF(struct nmreq_register, nr_host_tx_rings, 28);
	OFF(struct nmreq_register, nr_host_rx_rings, 30);
	OFF(struct nmreq_register, nr_mem_id, 32);
	OFF(struct nmreq_register, nr_ringid, 34);
	OFF(struct nmreq_register, nr_mode, 36);
	OFF(struct nmreq_register, nr_extra_bufs, 40);
	OFF(struct nmreq_register, nr_flags, 48);

	VAL(NR_REG_DEFAULT, 0);
	VAL(NR_REG_ALL_NIC, 1);
	VAL(NR_REG_SW, 2);
	VAL(NR_REG_NIC_SW, 3);
	VAL(NR_REG_ONE_NIC, 4);
	VAL(NR_REG_PIPE_MASTER, 5);
	VAL(NR_REG_PIPE_SLAVE, 6);
	VAL(NR_REG_NULL, 7);
	VAL(NR_REG_ONE_SW, 8);

	VAL(NR_MONITOR_TX, 0x100);
	VAL(NR_MONITOR_RX, 0x200);
	VAL(NR_ZCOPY_MON, 0x400);
	VAL(NR_EXCLUSIVE, 0x800);
	VAL(NR_RX_RINGS_ONLY, 0x2000);
	VAL(NR_TX_RINGS_ONLY, 0x4000);
	VAL(NR_ACCEPT_VNET_HDR, 0x8000);
	VAL(NR_DO_RX_POLL, 0x10000);
	VAL(NR_NO_TX_POLL, 0x20000);

	SIZE(struct nmreq_port_info_get, 32);
	OFF(struct nmreq_port_info_get, nr_memsize, 0);
	OFF(struct nmreq_port_info_get, nr_tx_slots, 8);
	OFF(struct nmreq_port_info_get, nr_rx_slots, 12);
	OFF(struct nmreq_port_info_get, nr_tx_rings, 16);
	OFF(struct nmreq_port_info_get, nr_rx_rings, 18);
	OFF(struct nmreq_port_info_get, nr_host_tx_rings, 20);
	OFF(struct nmreq_port_info_get, nr_host_rx_rings, 22);
	OFF(struct nmreq_port_info_get, nr_mem_id, 24);

	SIZE(struct nmreq_vale_attach, 64);
	OFF(struct nmreq_vale_attach, reg, 0);
	OFF(struct nmreq_vale_attach, port_index, 56);

	SIZE(struct nmreq_vale_detach, 8);
	OFF(struct nmreq_vale_detach, port_index, 0);

	SIZE(struct nmreq_vale_list, 8);
	OFF(struct nmreq_vale_list, nr_bridge_idx, 0);
	OFF(struct nmreq_vale_list, nr_port_idx, 4);

	SIZE(struct nmreq_port_hdr, 8);
	OFF(struct nmreq_port_hdr, nr_hdr_len, 0);

	SIZE(struct nmreq_vale_newif, 16);
	OFF(struct nmreq_vale_newif, nr_tx_slots, 0);
	OFF(struct nmreq_vale_newif, nr_rx_slots, 4);
	OFF(struct nmreq_vale_newif, nr_tx_rings, 8);
	OFF(struct nmreq_vale_newif, nr_rx_rings, 10);
	OFF(struct nmreq_vale_newif, nr_mem_id, 12);

	SIZE(struct nmreq_vale_polling, 16);
	OFF(struct nmreq_vale_polling, nr_mode, 0);
	OFF(struct nmreq_vale_polling, nr_first_cpu_id, 4);
	OFF(struct nmreq_vale_polling, nr_num_polling_cpus, 8);
	VAL(NETMAP_POLLING_MODE_SINGLE_CPU, 1);
	VAL(NETMAP_POLLING_MODE_MULTI_CPU, 2);

	SIZE(struct nmreq_pools_info, 64);
	OFF(struct nmreq_pools_info, nr_memsize, 0);
	OFF(struct nmreq_pools_info, nr_mem_id, 8);
	OFF(struct nmreq_pools_info, nr_if_pool_offset, 16);
	OFF(struct nmreq_pools_info, nr_if_pool_objtotal, 24);
	OFF(struct nmreq_pools_info, nr_if_pool_objsize, 28);
	OFF(struct nmreq_pools_info, nr_ring_pool_offset, 32);
	OFF(struct nmreq_pools_info, nr_ring_pool_objtotal, 40);
	OFF(struct nmreq_pools_info, nr_ring_pool_objsize, 44);
	OFF(struct nmreq_pools_info, nr_buf_pool_offset, 48);
	OFF(struct nmreq_pools_info, nr_buf_pool_objtotal, 56);
	OFF(struct nmreq_pools_info, nr_buf_pool_objsize, 60);

	SIZE(struct nmreq_sync_kloop_start, 8);
	OFF(struct nmreq_sync_kloop_start, sleep_us, 0);

	VAL(NM_BDG_MAXPORTS, 254);
	VAL(NM_BDG_BROADCAST, 254);
	VAL(NM_BDG_NOPORT, 255);
}

static void
test_options(void)
{
	SIZE(struct nmreq_option, 24);
	OFF(struct nmreq_option, nro_next, 0);
	OFF(struct nmreq_option, nro_reqtype, 8);
	OFF(struct nmreq_option, nro_status, 12);
	OFF(struct nmreq_option, nro_size, 16);

	VAL(NETMAP_REQ_OPT_EXTMEM, 1);
	VAL(NETMAP_REQ_OPT_SYNC_KLOOP_EVENTFDS, 2);
	VAL(NETMAP_REQ_OPT_CSB, 3);
	VAL(NETMAP_REQ_OPT_SYNC_KLOOP_MODE, 4);
	VAL(NETMAP_REQ_OPT_OFFSETS, 5);
	VAL(NETMAP_REQ_OPT_MAX, 6);

	SIZE(struct nmreq_opt_extmem, 96);
	OFF(struct nmreq_opt_extmem, nro_usrptr, 24);
	OFF(struct nmreq_opt_extmem, nro_info, 32);

	SIZE(struct nmreq_opt_csb, 40);
	OFF(struct nmreq_opt_csb, csb_atok, 24);
	OFF(struct nmreq_opt_csb, csb_ktoa, 32);

	SIZE(struct nmreq_opt_sync_kloop_eventfds, 24);
	OFF(struct nmreq_opt_sync_kloop_eventfds, eventfds, 24);
	EQ("sizeof(eventfds[0])", 8,
	    sizeof(((struct nmreq_opt_sync_kloop_eventfds *)0)->eventfds[0]));

	SIZE(struct nmreq_opt_sync_kloop_mode, 32);
	OFF(struct nmreq_opt_sync_kloop_mode, mode, 24);
	VAL(NM_OPT_SYNC_KLOOP_DIRECT_TX, 1);
	VAL(NM_OPT_SYNC_KLOOP_DIRECT_RX, 2);

	SIZE(struct nmreq_opt_offsets, 56);
	OFF(struct nmreq_opt_offsets, nro_max_offset, 24);
	OFF(struct nmreq_opt_offsets, nro_initial_offset, 32);
	OFF(struct nmreq_opt_offsets, nro_offset_bits, 40);
	OFF(struct nmreq_opt_offsets, nro_tx_align, 44);
	OFF(struct nmreq_opt_offsets, nro_min_gap, 48);

	SIZE(struct nm_csb_atok, 64);
	OFF(struct nm_csb_atok, head, 0);
	OFF(struct nm_csb_atok, cur, 4);
	OFF(struct nm_csb_atok, appl_need_kick, 8);
	OFF(struct nm_csb_atok, sync_flags, 12);
	SIZE(struct nm_csb_ktoa, 64);
	OFF(struct nm_csb_ktoa, hwcur, 0);
	OFF(struct nm_csb_ktoa, hwtail, 4);
	OFF(struct nm_csb_ktoa, kern_need_kick, 8);

	{
		struct nm_csb_atok atok;
		struct nm_csb_ktoa ktoa;
		uint32_t hwtail = 0, hwcur = 0;

		memset(&atok, 0, sizeof(atok));
		memset(&ktoa, 0, sizeof(ktoa));
		nm_sync_kloop_appl_write(&atok, 7, 5);
		EQ("appl_write: atok.cur", 7, atok.cur);
		EQ("appl_write: atok.head", 5, atok.head);
		ktoa.hwcur = 3;
		ktoa.hwtail = 9;
		nm_sync_kloop_appl_read(&ktoa, &hwtail, &hwcur);
		EQ("appl_read: hwtail", 9, hwtail);
		EQ("appl_read: hwcur", 3, hwcur);
	}
}

/* ------------------------------------------------------------------ */
/* legacy ABI (facts 2.7, 4.3)                                        */
/* ------------------------------------------------------------------ */

static void
test_legacy(void)
{
	SIZE(struct nmreq, 60);
	OFF(struct nmreq, nr_name, 0);
	OFF(struct nmreq, nr_version, 16);
	OFF(struct nmreq, nr_offset, 20);
	OFF(struct nmreq, nr_memsize, 24);
	OFF(struct nmreq, nr_tx_slots, 28);
	OFF(struct nmreq, nr_rx_slots, 32);
	OFF(struct nmreq, nr_tx_rings, 36);
	OFF(struct nmreq, nr_rx_rings, 38);
	OFF(struct nmreq, nr_ringid, 40);
	OFF(struct nmreq, nr_cmd, 42);
	OFF(struct nmreq, nr_arg1, 44);
	OFF(struct nmreq, nr_arg2, 46);
	OFF(struct nmreq, nr_arg3, 48);
	OFF(struct nmreq, nr_flags, 52);
	OFF(struct nmreq, spare2, 56);

	VAL(NETMAP_RING_MASK, 0x0fff);
	VAL(NETMAP_NO_TX_POLL, 0x1000);
	VAL(NETMAP_SW_RING, 0x2000);
	VAL(NETMAP_HW_RING, 0x4000);
	VAL(NETMAP_DO_RX_POLL, 0x8000);
	VAL(NR_REG_MASK, 0xf);

	VAL(NETMAP_BDG_ATTACH, 1);
	VAL(NETMAP_BDG_DETACH, 2);
	VAL(NETMAP_BDG_REGOPS, 3);
	VAL(NETMAP_BDG_LIST, 4);
	VAL(NETMAP_BDG_VNET_HDR, 5);
	VAL(NETMAP_BDG_NEWIF, 6);
	VAL(NETMAP_BDG_DELIF, 7);
	VAL(NETMAP_PT_HOST_CREATE, 8);
	VAL(NETMAP_PT_HOST_DELETE, 9);
	VAL(NETMAP_BDG_POLLING_ON, 10);
	VAL(NETMAP_BDG_POLLING_OFF, 11);
	VAL(NETMAP_VNET_HDR_GET, 12);
	VAL(NETMAP_BDG_HOST, 1);

	VAL(NM_IFRDATA_LEN, 256);
	SIZE(struct nm_ifreq, 272);
	OFF(struct nm_ifreq, nifr_name, 0);
	OFF(struct nm_ifreq, data, 16);

	SIZE(struct nm_pkthdr, 56);
	OFF(struct nm_pkthdr, ts, 0);
	OFF(struct nm_pkthdr, caplen, 16);
	OFF(struct nm_pkthdr, len, 20);
	OFF(struct nm_pkthdr, flags, 24);
	OFF(struct nm_pkthdr, d, 32);
	OFF(struct nm_pkthdr, slot, 40);
	OFF(struct nm_pkthdr, buf, 48);
	VAL(NM_MORE_PKTS, 1);

	SIZE(struct nm_stat, 12);
	VAL(NM_ERRBUF_SIZE, 512);

	SIZE(struct nm_desc, 760);
	OFF(struct nm_desc, self, 0);
	OFF(struct nm_desc, fd, 8);
	OFF(struct nm_desc, mem, 16);
	OFF(struct nm_desc, memsize, 24);
	OFF(struct nm_desc, done_mmap, 32);
	OFF(struct nm_desc, nifp, 40);
	OFF(struct nm_desc, first_tx_ring, 48);
	OFF(struct nm_desc, last_tx_ring, 50);
	OFF(struct nm_desc, cur_tx_ring, 52);
	OFF(struct nm_desc, first_rx_ring, 54);
	OFF(struct nm_desc, last_rx_ring, 56);
	OFF(struct nm_desc, cur_rx_ring, 58);
	OFF(struct nm_desc, req, 60);
	OFF(struct nm_desc, hdr, 120);
	OFF(struct nm_desc, some_ring, 176);
	OFF(struct nm_desc, buf_start, 184);
	OFF(struct nm_desc, buf_end, 192);
	OFF(struct nm_desc, snaplen, 200);
	OFF(struct nm_desc, promisc, 204);
	OFF(struct nm_desc, to_ms, 208);
	OFF(struct nm_desc, errbuf, 216);
	OFF(struct nm_desc, if_flags, 224);
	OFF(struct nm_desc, if_reqcap, 228);
	OFF(struct nm_desc, if_curcap, 232);
	OFF(struct nm_desc, st, 236);
	OFF(struct nm_desc, msg, 248);

	VAL(NM_OPEN_NO_MMAP, 0x040000);
	VAL(NM_OPEN_IFNAME, 0x080000);
	VAL(NM_OPEN_ARG1, 0x100000);
	VAL(NM_OPEN_ARG2, 0x200000);
	VAL(NM_OPEN_ARG3, 0x400000);
	VAL(NM_OPEN_RING_CFG, 0x800000);
}

/* ------------------------------------------------------------------ */
/* libnetmap.h (facts 4.1)                                            */
/* ------------------------------------------------------------------ */

static void
test_libnetmap(void)
{
	struct nmreq_header hdr;
	struct nmreq_option a, b, *o;
	int n = 0;

	VAL(NMREQ_OPT_MAXKEYS, 16);
	VAL(NMREQ_OPTK_ALLOWEMPTY, 1);
	VAL(NMREQ_OPTK_MUSTSET, 2);
	VAL(NMREQ_OPTK_DEFAULT, 4);
	VAL(NMREQ_OPTF_DISABLED, 1);
	VAL(NMREQ_OPTF_ALLOWEMPTY, 2);
	ALIGN(struct nmreq_opt_parser, 16);
	OFF(struct nmport_d, hdr, 0);
	OFF(struct nmport_d, reg, 88);

	/* nmreq_foreach_option walks nro_next links */
	memset(&hdr, 0, sizeof(hdr));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	hdr.nr_options = (uintptr_t)&a;
	a.nro_next = (uintptr_t)&b;
	nmreq_foreach_option(&hdr, o)
		n++;
	EQ("nmreq_foreach_option: options visited", 2, n);
}

/* ------------------------------------------------------------------ */
/* inline helpers on a fake region                                    */
/* ------------------------------------------------------------------ */

/*
 * Region layout: netmap_if at 0 (1 hw + 1 host ring per direction; host
 * rings unbound), TX ring at 1024, RX ring at 1536, buffers at 4096.
 * 8 slots per ring, 256-byte buffers; TX slots use buffers 2..9, RX slots
 * 10..17 (buffers 18..31 spare).
 */
#define R_TX_OFS	1024
#define R_RX_OFS	1536
#define R_BUF_OFS	4096
#define R_NSLOTS	8
#define R_BUFSZ		256
#define R_NBUFS		32

static unsigned char region[R_BUF_OFS + R_NBUFS * R_BUFSZ]
	__attribute__((aligned(4096)));

/* store into a field the headers declare const */
static void
poke(void *obj, size_t off, const void *val, size_t len)
{
	memcpy((char *)obj + off, val, len);
}

#define POKE(obj, type, field, value)					\
	do {								\
		__typeof__(((type *)0)->field) v_ = (value);		\
		poke(obj, offsetof(type, field), &v_, sizeof(v_));	\
	} while (0)

static void
init_ring(struct netmap_ring *ring, size_t ring_ofs, uint16_t dir,
	  uint32_t first_buf)
{
	uint32_t i;

	memset(ring, 0, sizeof(*ring) + R_NSLOTS * sizeof(ring->slot[0]));
	POKE(ring, struct netmap_ring, buf_ofs,
	    (int64_t)R_BUF_OFS - (int64_t)ring_ofs);
	POKE(ring, struct netmap_ring, num_slots, R_NSLOTS);
	POKE(ring, struct netmap_ring, nr_buf_size, R_BUFSZ);
	POKE(ring, struct netmap_ring, dir, dir);
	for (i = 0; i < R_NSLOTS; i++) {
		ring->slot[i].buf_idx = first_buf + i;
		ring->slot[i].len = R_BUFSZ;
	}
}

static struct netmap_if *
init_region(void)
{
	struct netmap_if *nifp = (struct netmap_if *)(void *)region;
	ssize_t ofs[4] = { R_TX_OFS, 0, R_RX_OFS, 0 };

	memset(region, 0, sizeof(region));
	POKE(nifp, struct netmap_if, ni_tx_rings, 1);
	POKE(nifp, struct netmap_if, ni_rx_rings, 1);
	POKE(nifp, struct netmap_if, ni_host_tx_rings, 1);
	POKE(nifp, struct netmap_if, ni_host_rx_rings, 1);
	poke(nifp, offsetof(struct netmap_if, ring_ofs), ofs, sizeof(ofs));
	init_ring((struct netmap_ring *)(void *)(region + R_TX_OFS),
	    R_TX_OFS, NM_RING_DIR_TX, 2);
	init_ring((struct netmap_ring *)(void *)(region + R_RX_OFS),
	    R_RX_OFS, NM_RING_DIR_RX, 10);
	return nifp;
}

static void
test_ring_helpers(void)
{
	struct netmap_if *nifp = init_region();
	struct netmap_ring *tx = NETMAP_TXRING(nifp, 0);
	struct netmap_ring *rx = NETMAP_RXRING(nifp, 0);
	struct netmap_slot *slot;
	unsigned char src[2048 + 64], dst[2048 + 64];
	static const int lens[] = { 64, 128, 960, 100, 1024, 2048 };
	unsigned int i;

	EQ("NETMAP_IF(region, 0)", (uintptr_t)region,
	    (uintptr_t)NETMAP_IF(region, 0));
	EQ("NETMAP_TXRING(nifp, 0)", (uintptr_t)(region + R_TX_OFS),
	    (uintptr_t)tx);
	EQ("NETMAP_RXRING(nifp, 0)", (uintptr_t)(region + R_RX_OFS),
	    (uintptr_t)rx);
	EQ("NETMAP_BUF(tx, 5)", (uintptr_t)(region + R_BUF_OFS + 5 * R_BUFSZ),
	    (uintptr_t)NETMAP_BUF(tx, 5));
	EQ("NETMAP_BUF(rx, 5)", (uintptr_t)(region + R_BUF_OFS + 5 * R_BUFSZ),
	    (uintptr_t)NETMAP_BUF(rx, 5));
	EQ("NETMAP_BUF_IDX(tx, NETMAP_BUF(tx, 7) + 3)", 7,
	    NETMAP_BUF_IDX(tx, NETMAP_BUF(tx, 7) + 3));

	/* offsets in slot.ptr */
	POKE(rx, struct netmap_ring, offset_mask, 0xff);
	slot = &rx->slot[0];
	slot->ptr = 0xabcd00;
	NETMAP_WOFFSET(rx, slot, 0x1234);	/* masked to 0x34 */
	EQ("NETMAP_WOFFSET keeps the high bits", 0xabcd34, slot->ptr);
	EQ("NETMAP_ROFFSET", 0x34, NETMAP_ROFFSET(rx, slot));
	EQ("NETMAP_BUF_OFFSET",
	    (uintptr_t)NETMAP_BUF(rx, slot->buf_idx) + 0x34,
	    (uintptr_t)NETMAP_BUF_OFFSET(rx, slot));
	POKE(rx, struct netmap_ring, offset_mask, 0);
	slot->ptr = 0;

	EQ("nm_ring_next(3)", 4, nm_ring_next(tx, 3));
	EQ("nm_ring_next(7) wraps", 0, nm_ring_next(tx, R_NSLOTS - 1));

	tx->head = tx->cur = 0;
	tx->tail = R_NSLOTS - 1;
	EQ("nm_ring_space(initial TX)", R_NSLOTS - 1, nm_ring_space(tx));
	EQ("nm_tx_pending(initial TX)", 0, nm_tx_pending(tx));
	EQ("nm_ring_empty(initial TX)", 0, nm_ring_empty(tx));
	tx->head = 6;
	tx->tail = 2;
	EQ("nm_ring_space(head 6, tail 2)", 4, nm_ring_space(tx));
	EQ("nm_tx_pending(head 6, tail 2)", 1, nm_tx_pending(tx));
	tx->head = tx->tail = 5;
	EQ("nm_ring_empty(head == tail)", 1, nm_ring_empty(tx));
	EQ("nm_ring_space(head == tail)", 0, nm_ring_space(tx));

	/* nm_pkt_copy: exact length, both code paths */
	for (i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 7 + 1);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		int l = lens[i];

		memset(dst, 0xee, sizeof(dst));
		nm_pkt_copy(src, dst, l);
		EQ("nm_pkt_copy: data", 0, memcmp(src, dst, (size_t)l));
		EQ("nm_pkt_copy: no byte written past len", 0xee, dst[l]);
	}
}

static struct nm_desc *
fake_desc(struct netmap_if *nifp)
{
	struct nm_desc *d = (struct nm_desc *)calloc(1, sizeof(*d));

	if (d == NULL) {
		perror("calloc");
		exit(1);
	}
	d->self = d;
	d->fd = -1;
	d->mem = region;
	d->memsize = sizeof(region);
	POKE(d, struct nm_desc, nifp, nifp);
	return d;
}

static unsigned int cb_calls;
static uint32_t cb_len[8], cb_caplen[8], cb_head[8];
static uint64_t cb_flags[8];

static void
dispatch_cb(unsigned char *arg, const struct nm_pkthdr *h,
	    const unsigned char *buf)
{
	struct netmap_ring *ring = (struct netmap_ring *)(void *)arg;

	if (cb_calls < 8) {
		cb_len[cb_calls] = h->len;
		cb_caplen[cb_calls] = h->caplen;
		cb_flags[cb_calls] = h->flags;
		cb_head[cb_calls] = ring->head;
	}
	EQ("nm_dispatch: buf == hdr.buf", (uintptr_t)h->buf, (uintptr_t)buf);
	cb_calls++;
}

static void
test_legacy_io(void)
{
	struct netmap_if *nifp = init_region();
	struct netmap_ring *tx = NETMAP_TXRING(nifp, 0);
	struct netmap_ring *rx = NETMAP_RXRING(nifp, 0);
	struct nm_desc *d = fake_desc(nifp);
	struct nm_pkthdr h;
	unsigned char pkt[1024];
	unsigned char *p;
	unsigned int i;

	for (i = 0; i < sizeof(pkt); i++)
		pkt[i] = (unsigned char)(i ^ 0x5a);

	/* nm_inject: TX ring with 7 free slots starting at cur = 0 */
	tx->head = tx->cur = 0;
	tx->tail = R_NSLOTS - 1;
	tx->slot[0].flags = NS_REPORT;		/* must be overwritten */
	EQ("nm_inject(100)", 100, nm_inject(d, pkt, 100));
	EQ("nm_inject(100): len", 100, tx->slot[0].len);
	EQ("nm_inject(100): flags", 0, tx->slot[0].flags);
	EQ("nm_inject(100): head", 1, tx->head);
	EQ("nm_inject(100): cur", 1, tx->cur);
	EQ("nm_inject(100): data", 0,
	    memcmp(NETMAP_BUF(tx, tx->slot[0].buf_idx), pkt, 100));

	EQ("nm_inject(600)", 600, nm_inject(d, pkt, 600));
	EQ("nm_inject(600): frag 1 len", R_BUFSZ, tx->slot[1].len);
	EQ("nm_inject(600): frag 1 flags", NS_MOREFRAG, tx->slot[1].flags);
	EQ("nm_inject(600): frag 2 len", R_BUFSZ, tx->slot[2].len);
	EQ("nm_inject(600): frag 2 flags", NS_MOREFRAG, tx->slot[2].flags);
	EQ("nm_inject(600): frag 3 len", 600 - 2 * R_BUFSZ, tx->slot[3].len);
	EQ("nm_inject(600): frag 3 flags", 0, tx->slot[3].flags);
	EQ("nm_inject(600): head", 4, tx->head);
	EQ("nm_inject(600): frag 3 data", 0,
	    memcmp(NETMAP_BUF(tx, tx->slot[3].buf_idx), pkt + 2 * R_BUFSZ,
		600 - 2 * R_BUFSZ));

	/* 3 free slots left (4, 5, 6) */
	EQ("nm_inject(4 slots) with 3 free", 0, nm_inject(d, pkt, 3 * R_BUFSZ + 1));
	EQ("nm_inject failure leaves head", 4, tx->head);
	EQ("nm_inject(3 full slots)", 3 * R_BUFSZ,
	    nm_inject(d, pkt, 3 * R_BUFSZ));
	EQ("nm_inject(3 full slots): last flags", 0, tx->slot[6].flags);
	EQ("nm_inject(3 full slots): last len", R_BUFSZ, tx->slot[6].len);
	EQ("nm_inject(3 full slots): head", 7, tx->head);
	EQ("nm_inject into a full ring", 0, nm_inject(d, pkt, 1));

	/* inject starts at cur, not head */
	tx->head = 2;
	tx->cur = 4;
	tx->tail = 1;
	EQ("nm_inject from cur", 10, nm_inject(d, pkt, 10));
	EQ("nm_inject from cur: slot used", 10, tx->slot[4].len);
	EQ("nm_inject from cur: head = cur", 5, tx->head);

	/*
	 * nm_dispatch: packet A in slot 0 (60 B); packet B in slots 1-2,
	 * adjacent buffers 11 and 12 (256 + 40, all contiguous); packet C
	 * in slots 3-4, buffers 13 and 16 (256 + 10, not contiguous).
	 */
	rx->head = rx->cur = 0;
	rx->tail = 5;
	rx->ts.tv_sec = 1234;
	rx->ts.tv_usec = 5678;
	rx->slot[0].len = 60;
	rx->slot[1].len = R_BUFSZ;
	rx->slot[1].flags = NS_MOREFRAG;
	rx->slot[2].len = 40;
	rx->slot[3].len = R_BUFSZ;
	rx->slot[3].flags = NS_MOREFRAG;
	rx->slot[4].len = 10;
	rx->slot[4].buf_idx = 16;
	cb_calls = 0;
	EQ("nm_dispatch: packets", 3,
	    nm_dispatch(d, 0, dispatch_cb, (unsigned char *)rx));
	EQ("nm_dispatch: callbacks", 3, cb_calls);
	EQ("nm_dispatch: A len", 60, cb_len[0]);
	EQ("nm_dispatch: A caplen", 60, cb_caplen[0]);
	EQ("nm_dispatch: A flags", NM_MORE_PKTS, cb_flags[0]);
	EQ("nm_dispatch: A delivered after B was read (head)", 1, cb_head[0]);
	EQ("nm_dispatch: B len", R_BUFSZ + 40, cb_len[1]);
	EQ("nm_dispatch: B caplen (contiguous)", R_BUFSZ + 40, cb_caplen[1]);
	EQ("nm_dispatch: B flags", NM_MORE_PKTS, cb_flags[1]);
	EQ("nm_dispatch: B delivered after C was read (head)", 3, cb_head[1]);
	EQ("nm_dispatch: C len", R_BUFSZ + 10, cb_len[2]);
	EQ("nm_dispatch: C caplen (not contiguous)", R_BUFSZ, cb_caplen[2]);
	EQ("nm_dispatch: C (last) flags", 0, cb_flags[2]);
	EQ("nm_dispatch: C head", 5, cb_head[2]);
	EQ("nm_dispatch: ring head", 5, rx->head);
	EQ("nm_dispatch: ring cur", 5, rx->cur);
	EQ("nm_dispatch: hdr.ts", 1234, d->hdr.ts.tv_sec);
	EQ("nm_dispatch: hdr.slot", (uintptr_t)&rx->slot[3],
	    (uintptr_t)d->hdr.slot);
	EQ("nm_dispatch: hdr.d", (uintptr_t)d, (uintptr_t)d->hdr.d);

	/* nm_dispatch with a count */
	rx->head = rx->cur = 0;
	cb_calls = 0;
	EQ("nm_dispatch(cnt 2)", 2,
	    nm_dispatch(d, 2, dispatch_cb, (unsigned char *)rx));
	EQ("nm_dispatch(cnt 2): head", 3, rx->head);
	EQ("nm_dispatch(cnt 2): callbacks", 2, cb_calls);
	EQ("nm_dispatch(cnt 2): last flags", 0, cb_flags[1]);
	EQ("nm_dispatch: the packet left", 1,
	    nm_dispatch(d, 2, dispatch_cb, (unsigned char *)rx));
	EQ("nm_dispatch: empty ring", 0,
	    nm_dispatch(d, 0, dispatch_cb, (unsigned char *)rx));

	/* nm_nextpkt: one slot at a time, no fragment handling */
	rx->head = rx->cur = 0;
	rx->tail = 2;
	memset(&h, 0, sizeof(h));
	p = nm_nextpkt(d, &h);
	EQ("nm_nextpkt: buffer", (uintptr_t)NETMAP_BUF(rx, rx->slot[0].buf_idx),
	    (uintptr_t)p);
	EQ("nm_nextpkt: len", 60, h.len);
	EQ("nm_nextpkt: caplen", 60, h.caplen);
	EQ("nm_nextpkt: ts", 1234, h.ts.tv_sec);
	EQ("nm_nextpkt: head", 1, rx->head);
	p = nm_nextpkt(d, &h);
	EQ("nm_nextpkt: fragment alone", R_BUFSZ, h.len);
	EQ("nm_nextpkt: head 2", 2, rx->head);
	EQ("nm_nextpkt: empty", 0, (uintptr_t)nm_nextpkt(d, &h));
	(void)p;

	/* nm_close: fd -1, done_mmap 0 -> only frees */
	EQ("nm_close(valid)", 0, nm_close(d));
	EQ("nm_close(NULL)", EINVAL, nm_close(NULL));

	/* nm_open: a name that is not a netmap name -> NULL, errno 0 */
	errno = EBADF;
	EQ("nm_open(\"eth0\") returns NULL", 0,
	    (uintptr_t)nm_open("eth0", NULL, 0, NULL));
	EQ("nm_open(\"eth0\") errno", 0, errno);
}

/* ------------------------------------------------------------------ */
/* nm_open's name parser (facts 3.4)                                  */
/* ------------------------------------------------------------------ */

static const struct parse_case {
	const char	*name;
	int		err;		/* expected errno, 0 = success */
	const char	*nr_name;
	uint32_t	nr_flags;	/* mode | flags */
	uint16_t	nr_ringid;
	uint16_t	nr_arg2;	/* mem id */
} parse_cases[] = {
	{ "netmap:eth0", 0, "eth0", NR_REG_ALL_NIC, 0, 0 },
	{ "netmap:eth0-1", 0, "eth0", NR_REG_ONE_NIC, 1, 0 },
	{ "netmap:eth0-4094", 0, "eth0", NR_REG_ONE_NIC, 4094, 0 },
	{ "netmap:eth0-4095", EINVAL, NULL, 0, 0, 0 },
	{ "netmap:eth0-/x", 0, "eth0", NR_REG_ONE_NIC | NR_EXCLUSIVE, 0, 0 },
	{ "netmap:eth0-", EINVAL, NULL, 0, 0, 0 },
	{ "netmap:eth0^", 0, "eth0", NR_REG_SW, 0, 0 },
	{ "netmap:eth0^1", EINVAL, NULL, 0, 0, 0 },
	{ "netmap:eth0*", 0, "eth0", NR_REG_NIC_SW, 0, 0 },
	{ "netmap:eth0{3", 0, "eth0", NR_REG_PIPE_MASTER, 3, 0 },
	{ "netmap:eth0}3", 0, "eth0", NR_REG_PIPE_SLAVE, 3, 0 },
	{ "netmap:eth0/xT", 0, "eth0",
	  NR_REG_ALL_NIC | NR_EXCLUSIVE | NR_TX_RINGS_ONLY, 0, 0 },
	{ "netmap:eth0/zrtR", 0, "eth0", NR_REG_ALL_NIC | NR_ZCOPY_MON |
	  NR_MONITOR_RX | NR_MONITOR_TX | NR_RX_RINGS_ONLY, 0, 0 },
	{ "netmap:eth0-2/R@3", 0, "eth0",
	  NR_REG_ONE_NIC | NR_RX_RINGS_ONLY, 2, 3 },
	{ "netmap:eth0@2", 0, "eth0", NR_REG_ALL_NIC, 0, 2 },
	{ "netmap:eth0@2/x", 0, "eth0", NR_REG_ALL_NIC | NR_EXCLUSIVE, 0, 2 },
	{ "netmap:eth0@2@3", EINVAL, NULL, 0, 0, 0 },
	{ "netmap:eth0@0", EINVAL, NULL, 0, 0, 0 },
	{ "netmap:eth0@", EINVAL, NULL, 0, 0, 0 },
	{ "netmap:eth0/", EINVAL, NULL, 0, 0, 0 },
	{ "netmap:eth0/q", EINVAL, NULL, 0, 0, 0 },
	{ "netmap:eth0*x", EINVAL, NULL, 0, 0, 0 },
	{ "netmap:eth0.100", 0, "eth0.100", NR_REG_ALL_NIC, 0, 0 },
	{ "netmap:abcdefghijklmno", 0, "abcdefghijklmno", NR_REG_ALL_NIC,
	  0, 0 },
	{ "netmap:abcdefghijklmnop", EINVAL, NULL, 0, 0, 0 },
	{ "vale0:1", 0, "vale0:1", NR_REG_ALL_NIC, 0, 0 },
	{ "vale:x", 0, "vale:x", NR_REG_ALL_NIC, 0, 0 },
	{ "vale0:", 0, "vale0:", NR_REG_ALL_NIC, 0, 0 },
	{ "vale0:p{1", 0, "vale0:p", NR_REG_PIPE_MASTER, 1, 0 },
	{ "vale0:p-2/x", 0, "vale0:p", NR_REG_ONE_NIC | NR_EXCLUSIVE, 2, 0 },
	{ "vale0", EINVAL, NULL, 0, 0, 0 },
	{ "vale.0:1", EINVAL, NULL, 0, 0, 0 },
	{ "vale0:a.b", EINVAL, NULL, 0, 0, 0 },
};

static void
test_parse(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		char errmsg[NM_ERRMSG_LEN_] = "";
		char what[128];
		struct nm_desc *d;
		int ret;

		d = (struct nm_desc *)calloc(1, sizeof(*d));
		if (d == NULL) {
			perror("calloc");
			exit(1);
		}
		ret = nm_parse_(c->name, d, errmsg);
		snprintf(what, sizeof(what), "nm_parse(\"%s\") result",
		    c->name);
		EQ(what, c->err ? -1 : 0, ret);
		if (c->err != 0) {
			snprintf(what, sizeof(what), "nm_parse(\"%s\") errno",
			    c->name);
			EQ(what, c->err, errno);
			snprintf(what, sizeof(what),
			    "nm_parse(\"%s\") has a message", c->name);
			EQ(what, 1, errmsg[0] != '\0');
		} else {
			snprintf(what, sizeof(what), "nm_parse(\"%s\") nr_name",
			    c->name);
			check_str(what, c->nr_name, d->req.nr_name, __LINE__);
			snprintf(what, sizeof(what),
			    "nm_parse(\"%s\") nr_flags", c->name);
			EQ(what, c->nr_flags, d->req.nr_flags);
			snprintf(what, sizeof(what),
			    "nm_parse(\"%s\") nr_ringid", c->name);
			EQ(what, c->nr_ringid, d->req.nr_ringid);
			snprintf(what, sizeof(what),
			    "nm_parse(\"%s\") nr_arg2", c->name);
			EQ(what, c->nr_arg2, d->req.nr_arg2);
		}
		free(d);
	}
}

int
main(void)
{
	test_shared_objects();
	test_requests();
	test_options();
	test_legacy();
	test_libnetmap();
	test_ring_helpers();
	test_legacy_io();
	test_parse();

	if (failures != 0) {
		fprintf(stderr, "test_abi: %u of %u checks FAILED\n", failures,
		    checks);
		return 1;
	}
	printf("test_abi: %u checks ok\n", checks);
	return 0;
}
