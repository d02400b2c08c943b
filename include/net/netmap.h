/*
 * unetmap — netmap's data structures and control ABI (API version 14).
 *
 * This header is binary compatible with netmap's <net/netmap.h> on Linux
 * x86-64 (LP64): every struct below has the size and field offsets of the
 * netmap kernel module's, and the ioctl numbers have the same values, so
 * netmap applications build against it unchanged.  unetmap provides the
 * "kernel" side in user space (libnetmap plus the netmapd daemon).
 *
 * Contents:
 *   1. shared-memory objects: netmap_slot, netmap_ring, netmap_if
 *   2. control requests (NIOCCTRL): nmreq_header, request bodies, options
 *   3. CSB entries and the sync-kloop helpers
 *   4. the legacy control ABI (struct nmreq, NIOCGINFO, NIOCREGIF, ...),
 *      in <net/netmap_legacy.h>, which this file includes
 *
 * Applications normally include <net/netmap_user.h>, which includes this
 * file and adds the accessor macros; <libnetmap.h> adds the library API.
 */

#ifndef _NET_NETMAP_H_
#define _NET_NETMAP_H_

#include <stdint.h>
#include <sys/types.h>		/* ssize_t */
#include <sys/time.h>		/* struct timeval */
#include <sys/ioctl.h>		/* _IO, _IOWR */

#ifdef __cplusplus
extern "C" {
#endif

#define NETMAP_API	14	/* the API version of this header */
#define NETMAP_MIN_API	14	/* NIOCCTRL accepts nr_version in */
#define NETMAP_MAX_API	15	/* [NETMAP_MIN_API, NETMAP_MAX_API] */

/*
 * Interface names in the shared objects and in the legacy request are
 * IFNAMSIZ (16) bytes.  <net/if.h> only defines IFNAMSIZ for the default
 * (non-strict) feature set, so provide it for strict ISO builds; the
 * spelling matches <linux/if.h>, so including that one later is harmless.
 */
#ifndef IFNAMSIZ
#define IFNAMSIZ	16
#endif

/* alignment of the ring's "sem" area (and of ring objects in a region) */
#define NM_CACHE_ALIGN	128

/*
 * ==========================================================================
 * 1. Shared-memory objects
 * ==========================================================================
 *
 * A port's rings and buffers live in a memory region ("allocator",
 * identified by nr_mem_id) that the application maps with
 *
 *	mmap(NULL, nr_memsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
 *
 * after registering the fd.  The region holds, in this order, the
 * netmap_if objects, the netmap_ring objects and the packet buffers (all
 * of the same size, 2048 bytes by default).  Nothing in the region is an
 * absolute pointer: rings are found from the netmap_if through offsets,
 * buffers through their index, so every party may map the region at a
 * different address.  Buffer indices 0 and 1 are reserved; valid indices
 * are 2 .. objtotal-1.
 *
 *	nifp = NETMAP_IF(mem, nr_offset)
 *	ring = NETMAP_TXRING(nifp, i) / NETMAP_RXRING(nifp, i)
 *	buf  = NETMAP_BUF(ring, ring->slot[j].buf_idx)
 */

/*
 * struct netmap_slot - one buffer descriptor (16 bytes).
 *
 * buf_idx	index of the buffer in the region.  The application may
 *		replace it with another buffer of the same region (zero-copy
 *		swap between ports sharing the region) and must then set
 *		NS_BUF_CHANGED.
 * len		bytes of data in this slot (one fragment).
 * flags	NS_* flags below; on VALE RX slots the high byte holds the
 *		fragment count of the packet (so a one-slot packet arrives
 *		with flags 0x0100).
 * ptr		user pointer for NS_INDIRECT (VALE TX); holds the buffer
 *		offset in its low bits when the OFFSETS option is active
 *		(see offset_mask); otherwise free for the application (pipes
 *		carry it to the peer unchanged).
 */
struct netmap_slot {
	uint32_t	buf_idx;
	uint16_t	len;
	uint16_t	flags;
	uint64_t	ptr;
};

/* netmap_slot.flags */
#define NS_BUF_CHANGED	0x0001	/* buf_idx was changed by the application */
#define NS_REPORT	0x0002	/* ask for a TX completion report */
#define NS_FORWARD	0x0004	/* transparent mode: forward on release */
#define NS_NO_LEARN	0x0008	/* VALE: do not learn the source MAC */
#define NS_INDIRECT	0x0010	/* VALE TX: data is at user address ptr */
#define NS_MOREFRAG	0x0020	/* packet continues in the next slot */
#define NS_TXMON	0x0040	/* monitor RX: seen on the monitored TX side */

#define NS_PORT_SHIFT	8
#define NS_PORT_MASK	(0xff << NS_PORT_SHIFT)	/* VALE TX dest. port (unused) */
/* VALE RX: total number of fragments of the packet this slot belongs to */
#define NS_RFRAGS(_slot)	(((_slot)->flags >> 8) & 0xff)

#define NETMAP_MAX_FRAGS	64	/* longest NS_MOREFRAG chain */

/*
 * struct netmap_ring - a ring of slots (256-byte header, then the slots).
 *
 * DATA OWNERSHIP
 *
 * The slots of a ring are split by head and tail:
 *
 *	[head, tail)	owned by the application: on TX free slots it may
 *			fill, on RX received packets it may consume;
 *	[tail, head)	owned by the port ("kernel" side); one slot is always
 *			kept empty, so at most num_slots - 1 are usable.
 *
 * The application writes head, cur, flags, sem, and the fields of the slots
 * (and buffers) it owns.  It returns slots by advancing head (indices only
 * move forward, modulo num_slots) and then calls NIOCTXSYNC / NIOCRXSYNC or
 * poll(); the sync hands [old head, head) to the port and moves tail.  tail
 * and ts change only inside a sync call made on this ring, never
 * asynchronously; the const fields never change while the ring exists.
 *
 * cur is the wakeup point: poll() reports the ring ready when cur != tail
 * after the sync.  cur may be moved ahead of head (up to tail) to wait for
 * more slots without returning the ones in between.
 *
 * A sync that finds head or cur outside the allowed range re-initialises
 * the ring (head = cur = the port's position, tail restored) and poll()
 * reports POLLERR.
 *
 * Initial state: TX head = cur = 0, tail = num_slots - 1; RX all zero.
 *
 * Fields ("port" = written by the netmap side, "app" = by the application):
 *
 * buf_ofs	port	offset from this ring to buffer 0
 * num_slots	port	number of slots (not necessarily a power of 2)
 * nr_buf_size	port	size of every buffer of the region
 * ringid	port	ring index within its direction (host rings come
 *			after the hardware rings)
 * dir		port	direction: 1 for TX rings, 0 for RX rings (the
 *			netmap header's comment "0: tx, 1: rx" is wrong; the
 *			values here are what netmap actually stores)
 * head		app	first slot owned by the application
 * cur		app	wakeup point
 * tail		port	first slot owned by the port
 * flags	app	NR_TIMESTAMP, NR_FORWARD
 * ts		port	time of the last rxsync
 * offset_mask	port	mask of the offset bits in slot.ptr (0 = no offsets)
 * buf_align	port	required alignment of TX packet starts (0 = none)
 * sem		app	128 bytes of application scratch space; the netmap
 *			side never reads or writes it
 * slot		both	num_slots descriptors
 */
struct netmap_ring {
	const int64_t	buf_ofs;
	const uint32_t	num_slots;
	const uint32_t	nr_buf_size;
	const uint16_t	ringid;
	const uint16_t	dir;

	uint32_t	head;
	uint32_t	cur;
	uint32_t	tail;

	uint32_t	flags;

	struct timeval	ts;

	const uint64_t	offset_mask;
	const uint64_t	buf_align;

	uint8_t		sem[128] __attribute__((__aligned__(NM_CACHE_ALIGN)));

	struct netmap_slot slot[];
};

/* netmap_ring.flags */
#define NR_TIMESTAMP	0x0002	/* update ts on every sync */
#define NR_FORWARD	0x0004	/* honour NS_FORWARD on this ring */

/*
 * Values of netmap_ring.dir (unetmap names; netmap only has the numbers).
 */
#define NM_RING_DIR_RX	0
#define NM_RING_DIR_TX	1

/*
 * nm_ring_empty - true if the application owns no slot of the ring
 * (head == tail): nothing to read on RX, no free slot on TX.
 */
static inline int
nm_ring_empty(const struct netmap_ring *ring)
{
	return ring->head == ring->tail;
}

/*
 * struct netmap_if - the view of a port through one file descriptor.
 *
 * One netmap_if exists per registered fd (rings are shared by all the fds
 * bound to them).  All fields are written by the netmap side except
 * ni_bufs_head, which the application may change.
 *
 * ni_name		port name, truncated to 15 characters
 * ni_version		unused (0)
 * ni_flags		NI_PRIV_MEM if the region is not the global one
 * ni_tx_rings		number of hardware TX rings of the port
 * ni_rx_rings		number of hardware RX rings
 * ni_bufs_head		first extra buffer (0 = none).  Extra buffers form a
 *			list linked through the first uint32_t of each buffer,
 *			terminated by 0; on close the port frees the list
 *			that starts here at that moment.
 * ni_host_tx_rings	number of host TX rings; at least 1 (a placeholder
 *			ring with offset 0 on ports without host rings)
 * ni_host_rx_rings	number of host RX rings; at least 1
 * ring_ofs		offset of each ring from this netmap_if, in the order:
 *			hardware TX, host TX, hardware RX, host RX.  The
 *			entry is 0 for every ring not bound to this fd.
 */
struct netmap_if {
	char		ni_name[IFNAMSIZ];
	const uint32_t	ni_version;
	const uint32_t	ni_flags;
	const uint32_t	ni_tx_rings;
	const uint32_t	ni_rx_rings;
	uint32_t	ni_bufs_head;
	const uint32_t	ni_host_tx_rings;
	const uint32_t	ni_host_rx_rings;
	uint32_t	ni_spare1[3];
	const ssize_t	ring_ofs[];
};

/* netmap_if.ni_flags */
#define NI_PRIV_MEM	0x1	/* private memory region */

/*
 * ==========================================================================
 * 2. Control requests: ioctl(fd, NIOCCTRL, struct nmreq_header *)
 * ==========================================================================
 *
 * Every request starts with a struct nmreq_header, which names the port,
 * gives the request type and points to the request body and to an optional
 * list of options.  Pointers travel as uint64_t so that the layout is the
 * same for 32- and 64-bit programs.  On error the ioctl returns -1 and sets
 * errno; the body is written back only when the request succeeded.
 */

#define NETMAP_REQ_MAXSIZE	4096	/* largest body + options, in bytes */
#define NETMAP_REQ_IFNAMSIZ	64	/* size of nmreq_header.nr_name */

/*
 * struct nmreq_option - common header of every option (24 bytes).
 *
 * nro_next	address of the next option, 0 at the end of the list
 * nro_reqtype	NETMAP_REQ_OPT_*
 * nro_status	(out) 0 if the option was accepted, else an errno value;
 *		EOPNOTSUPP for options the request did not use
 * nro_size	size of the whole option, for variable-size options only
 */
struct nmreq_option {
	uint64_t	nro_next;
	uint32_t	nro_reqtype;
	uint32_t	nro_status;
	uint64_t	nro_size;
};

/*
 * struct nmreq_header - header of every NIOCCTRL request (88 bytes).
 *
 * nr_version	NETMAP_API; must be within [NETMAP_MIN_API, NETMAP_MAX_API]
 * nr_reqtype	NETMAP_REQ_*
 * nr_reserved	must be 0
 * nr_name	port name, NUL-terminated (the last byte is forced to NUL)
 * nr_options	address of the first struct nmreq_option, or 0
 * nr_body	address of the body; must be 0 for the request types that
 *		have none (VALE_DELIF, SYNC_KLOOP_STOP, CSB_ENABLE)
 */
struct nmreq_header {
	uint16_t	nr_version;
	uint16_t	nr_reqtype;
	uint32_t	nr_reserved;
	char		nr_name[NETMAP_REQ_IFNAMSIZ];
	uint64_t	nr_options;
	uint64_t	nr_body;
};

/* nmreq_header.nr_reqtype, with the body each one takes */
enum {
	NETMAP_REQ_REGISTER = 1,	/* nmreq_register: bind the fd */
	NETMAP_REQ_PORT_INFO_GET,	/* nmreq_port_info_get */
	NETMAP_REQ_VALE_ATTACH,		/* nmreq_vale_attach */
	NETMAP_REQ_VALE_DETACH,		/* nmreq_vale_detach */
	NETMAP_REQ_VALE_LIST,		/* nmreq_vale_list */
	NETMAP_REQ_PORT_HDR_SET,	/* nmreq_port_hdr */
	NETMAP_REQ_PORT_HDR_GET,	/* nmreq_port_hdr */
	NETMAP_REQ_VALE_NEWIF,		/* nmreq_vale_newif */
	NETMAP_REQ_VALE_DELIF,		/* no body */
	NETMAP_REQ_VALE_POLLING_ENABLE,	/* nmreq_vale_polling */
	NETMAP_REQ_VALE_POLLING_DISABLE, /* nmreq_vale_polling */
	NETMAP_REQ_POOLS_INFO_GET,	/* nmreq_pools_info */
	NETMAP_REQ_SYNC_KLOOP_START,	/* nmreq_sync_kloop_start; blocks */
	NETMAP_REQ_SYNC_KLOOP_STOP,	/* no body */
	NETMAP_REQ_CSB_ENABLE		/* no body; needs NETMAP_REQ_OPT_CSB */
};

/* nmreq_option.nro_reqtype */
enum {
	NETMAP_REQ_OPT_EXTMEM = 1,	 /* nmreq_opt_extmem (REGISTER) */
	NETMAP_REQ_OPT_SYNC_KLOOP_EVENTFDS, /* nmreq_opt_sync_kloop_eventfds */
	NETMAP_REQ_OPT_CSB,		 /* nmreq_opt_csb (REGISTER, CSB_ENABLE) */
	NETMAP_REQ_OPT_SYNC_KLOOP_MODE,	 /* nmreq_opt_sync_kloop_mode */
	NETMAP_REQ_OPT_OFFSETS,		 /* nmreq_opt_offsets (REGISTER) */
	NETMAP_REQ_OPT_MAX		 /* number of option types + 1 */
};

/*
 * struct nmreq_register - body of NETMAP_REQ_REGISTER (56 bytes).
 *
 * nr_offset		(out) offset of the fd's netmap_if in the region
 * nr_memsize		(out) size of the region to mmap
 * nr_tx_slots ... nr_host_rx_rings
 *			(in/out) 0 = default, else the wanted value (honoured
 *			only when the port is created or first opened); on
 *			output the port's real values
 * nr_mem_id		(in/out) region to use, 0 = any; on output the region
 * nr_ringid		(in) ring index for NR_REG_ONE_NIC / NR_REG_ONE_SW
 * nr_mode		(in) NR_REG_*
 * nr_extra_bufs	(in/out) extra buffers wanted / obtained
 * nr_flags		(in) NR_* flags below
 *
 * nr_mode, nr_ringid and nr_flags are never modified by the request.
 */
struct nmreq_register {
	uint64_t	nr_offset;
	uint64_t	nr_memsize;
	uint32_t	nr_tx_slots;
	uint32_t	nr_rx_slots;
	uint16_t	nr_tx_rings;
	uint16_t	nr_rx_rings;
	uint16_t	nr_host_tx_rings;
	uint16_t	nr_host_rx_rings;
	uint16_t	nr_mem_id;
	uint16_t	nr_ringid;
	uint32_t	nr_mode;
	uint32_t	nr_extra_bufs;
	uint64_t	nr_flags;
};

/* nmreq_register.nr_flags (legacy: nmreq.nr_flags above NR_REG_MASK) */
#define NR_MONITOR_TX		0x100	/* copy monitor of the TX rings */
#define NR_MONITOR_RX		0x200	/* copy monitor of the RX rings */
#define NR_ZCOPY_MON		0x400	/* zero-copy monitor (TX and RX) */
#define NR_EXCLUSIVE		0x800	/* nobody else may bind these rings */
/* 0x1000 is unused: legacy NETMAP_NO_TX_POLL often lands here; ignored */
#define NR_RX_RINGS_ONLY	0x2000	/* bind no TX ring */
#define NR_TX_RINGS_ONLY	0x4000	/* bind no RX ring */
#define NR_ACCEPT_VNET_HDR	0x8000	/* the application handles virtio-net
					   headers (else EIO on such ports) */
#define NR_DO_RX_POLL		0x10000	/* accepted, no effect */
#define NR_NO_TX_POLL		0x20000	/* poll() txsyncs only on POLLOUT */
/*
 * unetmap extension, netmap:IFNAME ports only: how the interface is
 * reached.  In a REGISTER request, none of them means "the best the
 * interface offers"; set bits force a choice (@conf:nic=... does it for
 * nmport_open()).  REGISTER returns nr_flags unchanged, as netmap does;
 * the mode in use is in netmapd's log, pkt-gen's summary and
 * vale-ctl -g (unetmap's UNM_REQ_NIC_INFO request).
 */
#define NR_UNM_NIC_NATIVE	0x0100000000ULL	/* AF_XDP, XDP in the driver */
#define NR_UNM_NIC_GENERIC	0x0200000000ULL	/* AF_XDP, generic (skb) XDP */
#define NR_UNM_NIC_EMULATED	0x0400000000ULL	/* AF_PACKET */
#define NR_UNM_NIC_ZEROCOPY	0x1000000000ULL	/* AF_XDP zero-copy */
#define NR_UNM_NIC_COPY		0x2000000000ULL	/* AF_XDP copy mode */
#define NR_UNM_NIC_MASK		0x3700000000ULL

/* nmreq_register.nr_mode (legacy: nmreq.nr_flags & NR_REG_MASK) */
enum {
	NR_REG_DEFAULT	= 0,	/* legacy only; EINVAL through NIOCCTRL */
	NR_REG_ALL_NIC	= 1,	/* all hardware rings */
	NR_REG_SW	= 2,	/* all host rings */
	NR_REG_NIC_SW	= 3,	/* hardware and host rings */
	NR_REG_ONE_NIC	= 4,	/* hardware ring pair nr_ringid */
	NR_REG_PIPE_MASTER = 5,	/* legacy only; use the "x{y" name */
	NR_REG_PIPE_SLAVE = 6,	/* legacy only; use the "x}y" name */
	NR_REG_NULL	= 7,	/* a null port on region nr_mem_id */
	NR_REG_ONE_SW	= 8	/* host ring pair nr_ringid */
};

/* the ioctls of the current API */
#define NIOCCTRL	_IOWR('i', 151, struct nmreq_header)	/* 0xc0586997 */
#define NIOCTXSYNC	_IO('i', 148)	/* sync the fd's TX rings, 0x6994 */
#define NIOCRXSYNC	_IO('i', 149)	/* sync the fd's RX rings, 0x6995 */

/*
 * struct nmreq_port_info_get - body of NETMAP_REQ_PORT_INFO_GET (32 bytes).
 * All fields are output except nr_mem_id (in: region to describe when
 * nr_name is empty).
 */
struct nmreq_port_info_get {
	uint64_t	nr_memsize;
	uint32_t	nr_tx_slots;
	uint32_t	nr_rx_slots;
	uint16_t	nr_tx_rings;
	uint16_t	nr_rx_rings;
	uint16_t	nr_host_tx_rings;
	uint16_t	nr_host_rx_rings;
	uint16_t	nr_mem_id;
	uint16_t	pad[3];
};

#define NM_BDG_NAME	"vale"	/* prefix of VALE switch port names */

/*
 * VALE switch port numbers, as seen by a switch lookup function: a port
 * index (0 .. NM_BDG_MAXPORTS - 1), "every port" or "drop".  netmap keeps
 * these in a kernel header; unetmap exports them for lookup modules.
 */
#ifndef NM_BDG_MAXPORTS
#define NM_BDG_MAXPORTS		254
#define NM_BDG_BROADCAST	NM_BDG_MAXPORTS
#define NM_BDG_NOPORT		(NM_BDG_MAXPORTS + 1)
#endif

/*
 * struct nmreq_vale_attach - body of NETMAP_REQ_VALE_ATTACH (64 bytes).
 * nr_name is "valeX:ifname".  Only reg.nr_mode (NR_REG_ALL_NIC, or
 * NR_REG_NIC_SW to attach the host stack too), reg.nr_ringid (0) and
 * reg.nr_mem_id are used; port_index is the output.
 */
struct nmreq_vale_attach {
	struct nmreq_register reg;
	uint32_t	port_index;
	uint32_t	pad1;
};

/* struct nmreq_vale_detach - body of NETMAP_REQ_VALE_DETACH (8 bytes). */
struct nmreq_vale_detach {
	uint32_t	port_index;	/* (out) index the port had */
	uint32_t	pad1;
};

/*
 * struct nmreq_vale_list - body of NETMAP_REQ_VALE_LIST (8 bytes).
 * With a non-empty nr_name, look that port up; with an empty one,
 * enumerate from (nr_bridge_idx, nr_port_idx): the next port's name is
 * written into nr_name and its indices here (ENOENT when there are no more).
 */
struct nmreq_vale_list {
	uint16_t	nr_bridge_idx;
	uint16_t	pad1;
	uint32_t	nr_port_idx;
};

/*
 * struct nmreq_port_hdr - body of NETMAP_REQ_PORT_HDR_SET/GET (8 bytes).
 * Virtio-net header length: 0, 10 or 12.
 */
struct nmreq_port_hdr {
	uint32_t	nr_hdr_len;
	uint32_t	pad1;
};

/*
 * struct nmreq_vale_newif - body of NETMAP_REQ_VALE_NEWIF (16 bytes).
 * Creates the persistent VALE port nr_name; in/out (0 = default).
 */
struct nmreq_vale_newif {
	uint32_t	nr_tx_slots;
	uint32_t	nr_rx_slots;
	uint16_t	nr_tx_rings;
	uint16_t	nr_rx_rings;
	uint16_t	nr_mem_id;
	uint16_t	pad1;
};

/*
 * struct nmreq_vale_polling - body of NETMAP_REQ_VALE_POLLING_ENABLE and
 * _DISABLE (16 bytes): polling threads for a NIC attached to a switch.
 */
struct nmreq_vale_polling {
	uint32_t	nr_mode;	/* NETMAP_POLLING_MODE_* */
	uint32_t	nr_first_cpu_id;
	uint32_t	nr_num_polling_cpus;
	uint32_t	pad1;
};

#define NETMAP_POLLING_MODE_SINGLE_CPU	1	/* one thread, all rings */
#define NETMAP_POLLING_MODE_MULTI_CPU	2	/* one thread per ring */

/*
 * struct nmreq_pools_info - body of NETMAP_REQ_POOLS_INFO_GET (64 bytes),
 * also the in/out part of the EXTMEM option.  Offsets are from the start
 * of the region; objtotal/objsize describe each pool.
 */
struct nmreq_pools_info {
	uint64_t	nr_memsize;
	uint16_t	nr_mem_id;	/* in/out */
	uint16_t	pad1[3];
	uint64_t	nr_if_pool_offset;
	uint32_t	nr_if_pool_objtotal;
	uint32_t	nr_if_pool_objsize;
	uint64_t	nr_ring_pool_offset;
	uint32_t	nr_ring_pool_objtotal;
	uint32_t	nr_ring_pool_objsize;
	uint64_t	nr_buf_pool_offset;
	uint32_t	nr_buf_pool_objtotal;
	uint32_t	nr_buf_pool_objsize;
};

/*
 * struct nmreq_sync_kloop_start - body of NETMAP_REQ_SYNC_KLOOP_START
 * (8 bytes).  sleep_us: pause between idle iterations when no eventfds
 * are used (at most 1000000).
 */
struct nmreq_sync_kloop_start {
	uint32_t	sleep_us;
	uint32_t	pad1;
};

/*
 * ==========================================================================
 * 3. CSB mode and the sync kloop
 * ==========================================================================
 *
 * In CSB mode the application does not call NIOCTXSYNC/NIOCRXSYNC/poll()
 * (they fail with EBUSY/POLLERR); it publishes head/cur in an nm_csb_atok
 * entry and reads the port's hwcur/hwtail from an nm_csb_ktoa entry, one
 * pair per bound ring (TX rings first), while a thread blocked in
 * NETMAP_REQ_SYNC_KLOOP_START performs the syncs.  Entries are 64 bytes
 * and must be 64-byte aligned.
 */

/* written by the application, read by the kloop */
struct nm_csb_atok {
	uint32_t	head;
	uint32_t	cur;
	uint32_t	appl_need_kick;	/* application wants notifications */
	uint32_t	sync_flags;
	uint32_t	pad[12];
};

/* written by the kloop, read by the application */
struct nm_csb_ktoa {
	uint32_t	hwcur;
	uint32_t	hwtail;
	uint32_t	kern_need_kick;	/* kloop wants notifications */
	uint32_t	pad[13];
};

/*
 * nm_stst_barrier - release fence: stores before it become visible before
 * stores after it (and loads before it complete first).
 */
static inline void
nm_stst_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/*
 * nm_ldld_barrier - acquire fence: loads before it complete before loads
 * (and stores) after it.
 */
static inline void
nm_ldld_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}

/*
 * nm_sync_kloop_appl_write - publish the ring's cur and head to the kloop.
 *
 * cur is stored before head: the kloop reads head first, then cur, so it
 * never sees a head newer than cur (which would look like head > cur and
 * fail its ring validation).  A newer cur with an older head is harmless.
 */
static inline void
nm_sync_kloop_appl_write(struct nm_csb_atok *atok, uint32_t cur,
			 uint32_t head)
{
	/* A1: the slots and buffers written before this call are visible
	 * before the new cur/head (pairs with the kloop's read fence). */
	nm_stst_barrier();
	__atomic_store_n(&atok->cur, cur, __ATOMIC_RELAXED);
	/* A2: cur before head (pairs with the kloop's fence between its
	 * load of head and its load of cur). */
	nm_stst_barrier();
	__atomic_store_n(&atok->head, head, __ATOMIC_RELAXED);
}

/*
 * nm_sync_kloop_appl_read - read the port's hwtail and hwcur.
 *
 * hwtail is loaded before hwcur: the kloop stores hwcur before hwtail, so
 * the pair read is never one where hwtail ran ahead of a stale hwcur.
 */
static inline void
nm_sync_kloop_appl_read(struct nm_csb_ktoa *ktoa, uint32_t *hwtail,
			uint32_t *hwcur)
{
	*hwtail = __atomic_load_n(&ktoa->hwtail, __ATOMIC_RELAXED);
	/* R1: hwtail before hwcur (pairs with the kloop's fence between its
	 * store of hwcur and its store of hwtail). */
	nm_ldld_barrier();
	*hwcur = __atomic_load_n(&ktoa->hwcur, __ATOMIC_RELAXED);
	/* R2: both loads complete before the caller reads the ring's slots
	 * and buffers they made available (pairs with the kloop's release
	 * fence before it publishes hwtail). */
	nm_ldld_barrier();
}

/*
 * Option bodies.  Each starts with the common struct nmreq_option.
 */

/*
 * struct nmreq_opt_sync_kloop_eventfds - NETMAP_REQ_OPT_SYNC_KLOOP_EVENTFDS
 * (24 bytes + 8 per ring).  One eventfd pair per bound ring, in CSB order;
 * nro_size must be exactly 24 + 8 * rings.  An ioeventfd < 0 selects the
 * sleeping strategy; an irqfd < 0 disables notifications for that ring.
 */
struct nmreq_opt_sync_kloop_eventfds {
	struct nmreq_option nro_opt;
	struct {
		int32_t	ioeventfd;	/* application -> kloop */
		int32_t	irqfd;		/* kloop -> application */
	} eventfds[];
};

/* struct nmreq_opt_sync_kloop_mode - NETMAP_REQ_OPT_SYNC_KLOOP_MODE (32 B) */
struct nmreq_opt_sync_kloop_mode {
	struct nmreq_option nro_opt;
	uint32_t	mode;		/* NM_OPT_SYNC_KLOOP_DIRECT_* */
};

#define NM_OPT_SYNC_KLOOP_DIRECT_TX	(1 << 0)  /* txsync in the notifier */
#define NM_OPT_SYNC_KLOOP_DIRECT_RX	(1 << 1)  /* rxsync in the notifier */

/*
 * struct nmreq_opt_extmem - NETMAP_REQ_OPT_EXTMEM (96 bytes): build the
 * port's region on application memory at nro_usrptr; nro_info gives the
 * size and wanted pool parameters (0 = defaults) and returns the real ones.
 */
struct nmreq_opt_extmem {
	struct nmreq_option nro_opt;
	uint64_t	nro_usrptr;
	struct nmreq_pools_info nro_info;
};

/*
 * struct nmreq_opt_csb - NETMAP_REQ_OPT_CSB (40 bytes): addresses of the
 * nm_csb_atok and nm_csb_ktoa arrays (64-byte aligned).  Needs NR_EXCLUSIVE.
 */
struct nmreq_opt_csb {
	struct nmreq_option nro_opt;
	uint64_t	csb_atok;
	uint64_t	csb_ktoa;
};

/*
 * struct nmreq_opt_offsets - NETMAP_REQ_OPT_OFFSETS (56 bytes): use the low
 * nro_offset_bits bits of slot.ptr (0 = all 64) as an offset into the
 * buffer.
 *
 * nro_max_offset	(in/out) largest offset used; larger ones are clamped
 * nro_initial_offset	(in) offset written into every slot of new rings
 * nro_offset_bits	(in/out) width of the offset field
 * nro_tx_align		(in) required alignment of TX packet starts
 * nro_min_gap		(in) room the application needs after the offset
 */
struct nmreq_opt_offsets {
	struct nmreq_option nro_opt;
	uint64_t	nro_max_offset;
	uint64_t	nro_initial_offset;
	uint32_t	nro_offset_bits;
	uint32_t	nro_tx_align;
	uint64_t	nro_min_gap;
};

#ifdef __cplusplus
}
#endif

/* 4. the legacy control ABI, in a header of its own as in netmap; it is
 * part of this one and not meant to be included alone */
#include <net/netmap_legacy.h>

#endif /* _NET_NETMAP_H_ */
