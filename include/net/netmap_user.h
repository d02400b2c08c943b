/*
 * unetmap — application-side helpers for netmap (source compatible with
 * netmap's <net/netmap_user.h>).
 *
 * Fast path: offset macros to go from the mapped region to rings and
 * buffers, and tiny inline helpers for the ring indices.  With
 *
 *	#define NETMAP_WITH_LIBS
 *	#include <net/netmap_user.h>
 *
 * the legacy pcap-like API (nm_open, nm_close, nm_inject, nm_dispatch,
 * nm_nextpkt) is also defined, as static inline functions compiled into
 * the application.  They call open(), ioctl(), mmap(), munmap() and close()
 * directly; libnetmap provides those calls for netmap descriptors.
 *
 * Typical receive loop:
 *
 *	struct netmap_ring *ring = NETMAP_RXRING(nifp, i);
 *	while (!nm_ring_empty(ring)) {
 *		struct netmap_slot *slot = &ring->slot[ring->cur];
 *		char *buf = NETMAP_BUF(ring, slot->buf_idx);
 *		... consume slot->len bytes at buf ...
 *		ring->head = ring->cur = nm_ring_next(ring, ring->cur);
 *	}
 */

#ifndef _NET_NETMAP_USER_H_
#define _NET_NETMAP_USER_H_

#define NETMAP_DEVICE_NAME	"/dev/netmap"

#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <net/if.h>		/* IFNAMSIZ, which applications expect */
#include <ctype.h>
#include <string.h>
#include <sys/time.h>

#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif

#include <net/netmap.h>

#ifdef __cplusplus
extern "C" {
#endif

/* (type)(ptr + offset), going through void * to keep the compiler quiet */
#define _NETMAP_OFFSET(type, ptr, offset) \
	((type)(void *)((char *)(ptr) + (offset)))

/* the netmap_if of a registration: base = mapped region, ofs = nr_offset */
#define NETMAP_IF(_base, _ofs)	_NETMAP_OFFSET(struct netmap_if *, _base, _ofs)

/* TX ring i (hardware rings first, then host rings) */
#define NETMAP_TXRING(nifp, index)					\
	_NETMAP_OFFSET(struct netmap_ring *, nifp,			\
	    (nifp)->ring_ofs[(index)])

/* RX ring i (hardware rings first, then host rings) */
#define NETMAP_RXRING(nifp, index)					\
	_NETMAP_OFFSET(struct netmap_ring *, nifp,			\
	    (nifp)->ring_ofs[(index) + (nifp)->ni_tx_rings +		\
		(nifp)->ni_host_tx_rings])

/* address of buffer number index */
#define NETMAP_BUF(ring, index)						\
	((char *)(ring) + (ring)->buf_ofs +				\
	    ((size_t)(index) * (ring)->nr_buf_size))

/* inverse of NETMAP_BUF: the index of the buffer containing buf */
#define NETMAP_BUF_IDX(ring, buf)					\
	(((char *)(buf) - ((char *)(ring) + (ring)->buf_ofs)) /		\
	    (ring)->nr_buf_size)

/* the offset field of a slot (0 unless the OFFSETS option is active) */
#define NETMAP_ROFFSET(ring, slot)					\
	((slot)->ptr & (ring)->offset_mask)

/* store offset o into the offset field of a slot, keeping the other bits */
#define NETMAP_WOFFSET(ring, slot, o)					\
	do {								\
		(slot)->ptr = ((slot)->ptr & ~(ring)->offset_mask) |	\
		    ((o) & (ring)->offset_mask);			\
	} while (0)

/* where the packet of a slot starts: its buffer plus its offset */
#define NETMAP_BUF_OFFSET(ring, slot)					\
	(NETMAP_BUF(ring, (slot)->buf_idx) + NETMAP_ROFFSET(ring, slot))

/*
 * nm_ring_next - the slot index after i, wrapping at num_slots.
 */
static inline uint32_t
nm_ring_next(const struct netmap_ring *r, uint32_t i)
{
	return unlikely(i + 1 == r->num_slots) ? 0 : i + 1;
}

/*
 * nm_ring_space - slots the application owns: (tail - head) mod num_slots.
 * Uses head, not cur: cur may have been moved ahead to wait for more.
 */
static inline uint32_t
nm_ring_space(const struct netmap_ring *ring)
{
	uint32_t n = ring->tail - ring->head;

	if (ring->tail < ring->head)
		n += ring->num_slots;
	return n;
}

/*
 * nm_tx_pending - true if a TX ring still has slots the port has not
 * completed (when all are done, head == tail + 1 modulo num_slots).
 */
static inline int
nm_tx_pending(const struct netmap_ring *r)
{
	return nm_ring_next(r, r->tail) != r->head;
}

/*
 * nm_pkt_copy - copy l bytes of packet data between buffers.
 *
 * Short lengths that are a multiple of 64 are copied in 64-byte blocks,
 * which is faster than memcpy's handling of odd sizes; everything else
 * goes to memcpy.  Never reads or writes beyond l bytes.
 */
static inline void
nm_pkt_copy(const void *_src, void *_dst, int l)
{
	const char *src = (const char *)_src;
	char *dst = (char *)_dst;

	if (unlikely(l >= 1024 || l % 64 != 0)) {
		memcpy(dst, src, (size_t)l);
		return;
	}
	for (; likely(l > 0); l -= 64) {
		/* fixed-size memcpy: eight 8-byte moves, no aliasing issue */
		memcpy(dst, src, 64);
		src += 64;
		dst += 64;
	}
}

/*
 * nm_dlog_ - the implementation of D(): one stderr line
 *	"SSS.UUUUUU function [line] message"
 * (seconds modulo 1000, microseconds).  Not part of the netmap API.
 */
static inline void __attribute__((__format__(__printf__, 3, 4)))
nm_dlog_(const char *fn, int line, const char *fmt, ...)
{
	struct timeval now;
	char text[512];
	int pfx, len;
	va_list ap;

	gettimeofday(&now, NULL);
	pfx = snprintf(text, sizeof(text), "%03d.%06d %s [%d] ",
	    (int)(now.tv_sec % 1000), (int)now.tv_usec, fn, line);
	if (pfx < 0 || (size_t)pfx >= sizeof(text))
		pfx = 0;
	va_start(ap, fmt);
	len = vsnprintf(text + pfx, sizeof(text) - (size_t)pfx, fmt, ap);
	va_end(ap);
	if (len >= 0 && (size_t)len < sizeof(text) - (size_t)pfx) {
		/* common case: the whole line in one write */
		fprintf(stderr, "%s\n", text);
		return;
	}
	/* long message: print it in pieces rather than truncate it */
	text[pfx] = '\0';
	fputs(text, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#ifndef ND /* debug macros, unless the application has its own */
/*
 * ND() - disabled debug line: expands to an empty statement and does not
 * even compile its arguments (programs leave stale ones there).
 */
#define ND(...)	do {} while (0)

/* D(fmt, ...) - debug line on stderr with time, function and line */
#define D(...)	nm_dlog_(__func__, __LINE__, __VA_ARGS__)

/*
 * RD(lps, fmt, ...) - D() limited to lps lines per second for each place
 * where it is written.
 */
#define RD(lps, ...)							\
	do {								\
		static int nm_rd_sec_, nm_rd_cnt_;			\
		struct timeval nm_rd_now_;				\
		gettimeofday(&nm_rd_now_, NULL);			\
		if (nm_rd_sec_ != (int)nm_rd_now_.tv_sec) {		\
			nm_rd_sec_ = (int)nm_rd_now_.tv_sec;		\
			nm_rd_cnt_ = 0;					\
		}							\
		if (nm_rd_cnt_++ < (int)(lps))				\
			nm_dlog_(__func__, __LINE__, __VA_ARGS__);	\
	} while (0)
#endif /* !ND */

#ifdef __cplusplus
}
#endif

#ifdef NETMAP_WITH_LIBS
#ifndef HAVE_NETMAP_WITH_LIBS
#define HAVE_NETMAP_WITH_LIBS

/*
 * The legacy pcap-like API.  Headers that netmap programs expect to get
 * from here:
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * struct nm_pkthdr - packet information passed to the nm_dispatch()
 * callback and filled by nm_nextpkt() (56 bytes; starts like libpcap's
 * pcap_pkthdr).
 *
 * ts		ring->ts at the time the packet was read
 * caplen	bytes readable contiguously at buf
 * len		packet length (sum of its fragments)
 * flags	NM_MORE_PKTS if the dispatch has more packets after this one
 * d		the descriptor
 * slot		the packet's first slot
 * buf		the packet's first buffer
 */
struct nm_pkthdr {
	struct timeval	ts;
	uint32_t	caplen;
	uint32_t	len;
	uint64_t	flags;
	struct nm_desc	*d;
	struct netmap_slot *slot;
	uint8_t		*buf;
};

#define NM_MORE_PKTS	1

/* struct nm_stat - like libpcap's pcap_stat; not maintained by nm_* */
struct nm_stat {
	unsigned int	ps_recv;
	unsigned int	ps_drop;
	unsigned int	ps_ifdrop;
};

#define NM_ERRBUF_SIZE	512

/*
 * struct nm_desc - a port opened with nm_open() (760 bytes).
 *
 * self		points to itself while the descriptor is valid
 * fd		the /dev/netmap descriptor (NETMAP_FD(d))
 * mem, memsize	the mapped region; two descriptors with the same mem can
 *		swap buffers (zero copy)
 * done_mmap	1 if this descriptor mapped mem (and unmaps it on close)
 * nifp		the netmap_if
 * *_tx_ring, *_rx_ring
 *		inclusive range of the bound rings, and the ring where
 *		nm_inject / nm_dispatch / nm_nextpkt continue
 * req		the register request, as returned
 * hdr		used by nm_dispatch()
 * some_ring	the first bound RX ring (the first TX ring if no RX ring
 *		is bound); buf_start = its buffer 0; buf_end = mem + memsize
 * snaplen ... msg
 *		room for pcap-like wrappers; unused by the nm_* functions
 */
struct nm_desc {
	struct nm_desc	*self;
	int		fd;
	void		*mem;
	size_t		memsize;
	int		done_mmap;
	struct netmap_if * const nifp;
	uint16_t	first_tx_ring, last_tx_ring, cur_tx_ring;
	uint16_t	first_rx_ring, last_rx_ring, cur_rx_ring;
	struct nmreq	req;
	struct nm_pkthdr hdr;

	struct netmap_ring * const some_ring;
	void * const	buf_start;
	void * const	buf_end;

	int		snaplen;
	int		promisc;
	int		to_ms;
	char		*errbuf;

	uint32_t	if_flags;
	uint32_t	if_reqcap;
	uint32_t	if_curcap;

	struct nm_stat	st;
	char		msg[NM_ERRBUF_SIZE];
};

#define P2NMD(p)		((const struct nm_desc *)(p))
#define IS_NETMAP_DESC(d)	((d) && P2NMD(d)->self == P2NMD(d))
#define NETMAP_FD(d)		(P2NMD(d)->fd)

/* the nm_dispatch() callback; same signature as libpcap's pcap_handler */
typedef void (*nm_cb_t)(unsigned char *, const struct nm_pkthdr *,
			const unsigned char *);

/*
 * nm_open() flags.  The low 16 bits are reserved for nmreq.nr_ringid bits
 * (NETMAP_NO_TX_POLL, NETMAP_DO_RX_POLL), which nm_open ORs into the
 * request.  The others say what to take from the parent descriptor.
 */
enum {
	NM_OPEN_NO_MMAP =	0x040000, /* use the parent's mapping */
	NM_OPEN_IFNAME =	0x080000, /* nr_name, nr_ringid, nr_flags */
	NM_OPEN_ARG1 =		0x100000, /* nr_arg1 */
	NM_OPEN_ARG2 =		0x200000, /* nr_arg2 (memory region) */
	NM_OPEN_ARG3 =		0x400000, /* nr_arg3 (extra buffers) */
	NM_OPEN_RING_CFG =	0x800000  /* slot and ring counts */
};

#define NM_ERRMSG_LEN_	80	/* longest nm_open() error message */

/* nm_ident_ - 1 if [s, e) contains only [A-Za-z0-9_] (may be empty) */
static inline int __attribute__((__unused__))
nm_ident_(const char *s, const char *e)
{
	for (; s < e; s++) {
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	}
	return 1;
}

/*
 * nm_parse_ - parse an nm_open() port name into d->req.
 *
 *	( "netmap:" NAME | "vale" [ID] ":" [PORT] ) [mode] [suffix]
 *	mode   := "^" | "*" | "-" N | "{" N | "}" N
 *	suffix := ( "/" [xztrRT]* | "@" MEMID )+	(not ending in "/")
 *
 * NAME ends at the first of - * ^ { } / @ and must be shorter than
 * IFNAMSIZ.  For vale names, ID and PORT must be [A-Za-z0-9_]*, and the
 * whole "valeID:PORT" becomes nr_name.  N is a ring (or numeric pipe) id
 * in [0, NETMAP_RING_MASK); a missing number counts as 0.  MEMID > 0.
 *
 * On success ORs mode and flags into nr_flags, the ring id into nr_ringid,
 * sets nr_arg2 to the memory id (0 if none) and returns 0.  On error
 * writes a message into errmsg (NM_ERRMSG_LEN_ bytes), sets errno (EINVAL)
 * and returns -1 with d->req unchanged.
 */
static inline int __attribute__((__unused__))
nm_parse_(const char *ifname, struct nm_desc *d, char *errmsg)
{
	enum { S_START, S_MODE_DONE, S_NUMBER, S_FLAGS, S_FLAGS_DONE,
	       S_MEMID } state = S_START;
	const char *name, *p;
	uint32_t mode_flags = NR_REG_ALL_NIC, ringid = 0;
	uint16_t memid = 0;
	size_t namelen;
	char *end;
	long num;

	errno = 0;
	/* nm_open() checks the prefix first; checking it here again keeps
	 * the parser safe on its own (it would read past a short name) */
	if (strncmp(ifname, NM_BDG_NAME, strlen(NM_BDG_NAME)) == 0) {
		/* "vale" [ID] ":" [PORT]: nr_name is the whole thing */
		const char *colon = strchr(ifname, ':');

		if (colon == NULL) {
			snprintf(errmsg, NM_ERRMSG_LEN_, "missing ':' in vale name");
			goto fail;
		}
		if (!nm_ident_(ifname + strlen(NM_BDG_NAME), colon)) {
			snprintf(errmsg, NM_ERRMSG_LEN_, "invalid bridge name");
			goto fail;
		}
		name = ifname;
		p = colon + 1;
		while (*p != '\0' && strchr("-*^{}/@", *p) == NULL)
			p++;
		if (!nm_ident_(colon + 1, p)) {
			snprintf(errmsg, NM_ERRMSG_LEN_,
			    "invalid bridge port name");
			goto fail;
		}
	} else if (strncmp(ifname, "netmap:", strlen("netmap:")) == 0) {
		/* "netmap:" NAME: no check on the characters of NAME */
		name = ifname + strlen("netmap:");
		p = name;
		while (*p != '\0' && strchr("-*^{}/@", *p) == NULL)
			p++;
	} else {
		snprintf(errmsg, NM_ERRMSG_LEN_, "name must start with 'netmap:' or 'vale'");
		goto fail;
	}
	namelen = (size_t)(p - name);
	if (namelen >= sizeof(d->req.nr_name)) {
		snprintf(errmsg, NM_ERRMSG_LEN_, "name too long");
		goto fail;
	}

	while (*p != '\0') {
		switch (state) {
		case S_START:		/* a mode is allowed only here */
			switch (*p) {
			case '^':
				mode_flags = NR_REG_SW;
				state = S_MODE_DONE;
				break;
			case '*':
				mode_flags = NR_REG_NIC_SW;
				state = S_MODE_DONE;
				break;
			case '-':
				mode_flags = NR_REG_ONE_NIC;
				state = S_NUMBER;
				break;
			case '{':
				mode_flags = NR_REG_PIPE_MASTER;
				state = S_NUMBER;
				break;
			case '}':
				mode_flags = NR_REG_PIPE_SLAVE;
				state = S_NUMBER;
				break;
			case '/':
				state = S_FLAGS;
				break;
			case '@':
				state = S_MEMID;
				break;
			default:
				snprintf(errmsg, NM_ERRMSG_LEN_,
				    "unknown modifier: '%c'", *p);
				goto fail;
			}
			p++;
			break;

		case S_MODE_DONE:	/* only flags or a memory id follow */
			if (*p == '/') {
				state = S_FLAGS;
			} else if (*p == '@') {
				state = S_MEMID;
			} else {
				snprintf(errmsg, NM_ERRMSG_LEN_,
				    "unexpected character: '%c'", *p);
				goto fail;
			}
			p++;
			break;

		case S_NUMBER:		/* ring or pipe number; none means 0 */
			num = strtol(p, &end, 10);
			if (num < 0 || num >= NETMAP_RING_MASK) {
				snprintf(errmsg, NM_ERRMSG_LEN_,
				    "'%ld' out of range [0, %d)", num,
				    NETMAP_RING_MASK);
				goto fail;
			}
			ringid = (uint32_t)num;
			p = end;
			state = S_MODE_DONE;
			break;

		case S_FLAGS:
		case S_FLAGS_DONE:
			switch (*p) {
			case '@':
				state = S_MEMID;
				p++;
				continue;
			case 'x':
				mode_flags |= NR_EXCLUSIVE;
				break;
			case 'z':
				mode_flags |= NR_ZCOPY_MON;
				break;
			case 't':
				mode_flags |= NR_MONITOR_TX;
				break;
			case 'r':
				mode_flags |= NR_MONITOR_RX;
				break;
			case 'R':
				mode_flags |= NR_RX_RINGS_ONLY;
				break;
			case 'T':
				mode_flags |= NR_TX_RINGS_ONLY;
				break;
			default:
				snprintf(errmsg, NM_ERRMSG_LEN_,
				    "unrecognized flag: '%c'", *p);
				goto fail;
			}
			p++;
			state = S_FLAGS_DONE;
			break;

		case S_MEMID:
			if (memid != 0) {
				snprintf(errmsg, NM_ERRMSG_LEN_,
				    "double setting of memid");
				goto fail;
			}
			num = strtol(p, &end, 10);
			if (num <= 0 || num > UINT16_MAX) {
				snprintf(errmsg, NM_ERRMSG_LEN_,
				    "invalid memid %ld, must be >0", num);
				goto fail;
			}
			memid = (uint16_t)num;
			p = end;
			state = S_MODE_DONE;
			break;
		}
	}
	if (state != S_START && state != S_MODE_DONE &&
	    state != S_FLAGS_DONE) {
		snprintf(errmsg, NM_ERRMSG_LEN_, "unexpected end of port name");
		goto fail;
	}

	memcpy(d->req.nr_name, name, namelen);
	d->req.nr_name[namelen] = '\0';
	d->req.nr_flags |= mode_flags;
	d->req.nr_ringid |= (uint16_t)ringid;
	d->req.nr_arg2 = memid;
	return 0;

fail:
	if (errno == 0)
		errno = EINVAL;
	return -1;
}

/*
 * nm_close - close a descriptor opened with nm_open().
 * @d:		the descriptor
 *
 * Unmaps the region if this descriptor mapped it, closes the fd and
 * frees d.  Returns 0, or EINVAL if d is not a valid descriptor.
 */
static inline int __attribute__((__unused__))
nm_close(struct nm_desc *d)
{
	if (d == NULL || d->self != d)
		return EINVAL;
	if (d->done_mmap && d->mem != NULL)
		munmap(d->mem, d->memsize);
	if (d->fd != -1)
		close(d->fd);
	/* void *: C++ objects to memset on a struct with const members */
	memset((void *)d, 0, sizeof(*d));
	free(d);
	return 0;
}

/*
 * nm_mmap - map the region of a registered descriptor.
 * @d:		the descriptor (already registered)
 * @parent:	optional descriptor whose mapping may be reused
 *
 * If parent is a valid mapped descriptor of the same memory region
 * (equal req.nr_arg2), d shares its mapping and will not unmap it;
 * otherwise the region is mapped.  Then sets nifp, some_ring, buf_start
 * and buf_end.  Returns 0, or EINVAL if mmap() failed (errno is set).
 */
static inline int __attribute__((__unused__))
nm_mmap(struct nm_desc *d, const struct nm_desc *parent)
{
	struct netmap_if *nifp;
	struct netmap_ring *ring;
	ssize_t ofs;

	if (d->done_mmap)
		return 0;
	if (IS_NETMAP_DESC(parent) && parent->mem != NULL &&
	    parent->req.nr_arg2 == d->req.nr_arg2) {
		d->mem = parent->mem;
		d->memsize = parent->memsize;
	} else {
		void *mem;

		d->memsize = d->req.nr_memsize;
		mem = mmap(NULL, d->memsize, PROT_READ | PROT_WRITE,
		    MAP_SHARED, d->fd, 0);
		if (mem == MAP_FAILED)
			return EINVAL;
		d->mem = mem;
		d->done_mmap = 1;
	}

	nifp = NETMAP_IF(d->mem, d->req.nr_offset);
	/* some_ring: the first RX ring, or the first TX ring if no RX ring
	 * is bound to this fd (ring_ofs is 0 for unbound rings) */
	ofs = nifp->ring_ofs[d->first_rx_ring + nifp->ni_tx_rings +
	    nifp->ni_host_tx_rings];
	if (ofs == 0)
		ofs = nifp->ring_ofs[d->first_tx_ring];
	ring = ofs != 0 ? _NETMAP_OFFSET(struct netmap_ring *, nifp, ofs) :
	    NULL;

	/* the const members are set once, here */
	*(struct netmap_if **)(uintptr_t)(const void *)&d->nifp = nifp;
	*(struct netmap_ring **)(uintptr_t)(const void *)&d->some_ring = ring;
	*(void **)(uintptr_t)(const void *)&d->buf_start =
	    ring != NULL ? (void *)NETMAP_BUF(ring, 0) : NULL;
	*(void **)(uintptr_t)(const void *)&d->buf_end =
	    (char *)d->mem + d->memsize;
	return 0;
}

/*
 * nm_open - open and register a netmap port, and map its memory.
 * @ifname:	port name ("netmap:eth0", "netmap:eth0-1", "vale0:p{3",
 *		"netmap:eth0^/x@2" ...; see nm_parse_ above)
 * @req:	optional initial request (ring configuration, nr_arg*...);
 *		the parsed name is added to it
 * @new_flags:	NM_OPEN_* flags, plus NETMAP_NO_TX_POLL / NETMAP_DO_RX_POLL
 * @arg:	optional parent descriptor (see the NM_OPEN_* flags);
 *		a parent of the same memory region lends its mapping
 *
 * Returns the new descriptor, or NULL.  A name that is not a netmap name
 * (no "netmap:" or "vale" prefix) gives NULL with errno 0, so that callers
 * can try other kinds of devices.  Other errors print "<message> <ifname>"
 * on stderr and set errno (EINVAL if nothing more specific).
 */
static inline struct nm_desc * __attribute__((__unused__))
nm_open(const char *ifname, const struct nmreq *req, uint64_t new_flags,
	const struct nm_desc *arg)
{
	const struct nm_desc *parent = arg;
	char errmsg[NM_ERRMSG_LEN_] = "";
	struct nm_desc *d;
	uint32_t mode;
	int saved;

	if (strncmp(ifname, "netmap:", strlen("netmap:")) != 0 &&
	    strncmp(ifname, NM_BDG_NAME, strlen(NM_BDG_NAME)) != 0) {
		errno = 0;		/* not ours: not an error */
		return NULL;
	}

	d = (struct nm_desc *)calloc(1, sizeof(*d));
	if (d == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	d->self = d;			/* from here on nm_close(d) works */
	d->fd = open(NETMAP_DEVICE_NAME, O_RDWR);
	if (d->fd < 0) {
		snprintf(errmsg, sizeof(errmsg), "cannot open %s: %s",
		    NETMAP_DEVICE_NAME, strerror(errno));
		goto fail;
	}

	if (req != NULL)
		d->req = *req;
	if (!(new_flags & NM_OPEN_IFNAME) && nm_parse_(ifname, d, errmsg) < 0)
		goto fail;
	d->req.nr_version = NETMAP_API;
	d->req.nr_ringid &= NETMAP_RING_MASK;

	/* take fields from the parent (any flag at all enables this) */
	if (IS_NETMAP_DESC(parent) && new_flags != 0) {
		if (new_flags & NM_OPEN_ARG1)
			nm_dlog_(__func__, __LINE__, "overriding ARG1 %d",
			    parent->req.nr_arg1);
		d->req.nr_arg1 = (new_flags & NM_OPEN_ARG1) ?
		    parent->req.nr_arg1 : 4;
		if (new_flags & NM_OPEN_ARG2) {
			nm_dlog_(__func__, __LINE__, "overriding ARG2 %d",
			    parent->req.nr_arg2);
			d->req.nr_arg2 = parent->req.nr_arg2;
		}
		if (new_flags & NM_OPEN_ARG3)
			nm_dlog_(__func__, __LINE__, "overriding ARG3 %u",
			    parent->req.nr_arg3);
		d->req.nr_arg3 = (new_flags & NM_OPEN_ARG3) ?
		    parent->req.nr_arg3 : 0;
		if (new_flags & NM_OPEN_RING_CFG) {
			nm_dlog_(__func__, __LINE__, "overriding RING_CFG");
			d->req.nr_tx_slots = parent->req.nr_tx_slots;
			d->req.nr_rx_slots = parent->req.nr_rx_slots;
			d->req.nr_tx_rings = parent->req.nr_tx_rings;
			d->req.nr_rx_rings = parent->req.nr_rx_rings;
		}
		if (new_flags & NM_OPEN_IFNAME) {
			nm_dlog_(__func__, __LINE__,
			    "overriding ifname %.16s ringid 0x%x flags 0x%x",
			    parent->req.nr_name, parent->req.nr_ringid,
			    parent->req.nr_flags);
			memcpy(d->req.nr_name, parent->req.nr_name,
			    sizeof(d->req.nr_name));
			d->req.nr_ringid = parent->req.nr_ringid;
			d->req.nr_flags = parent->req.nr_flags;
		}
	}
	d->req.nr_ringid |= (uint16_t)(new_flags &
	    (NETMAP_NO_TX_POLL | NETMAP_DO_RX_POLL));

	if (ioctl(d->fd, NIOCREGIF, &d->req) != 0) {
		snprintf(errmsg, sizeof(errmsg), "NIOCREGIF failed: %s",
		    strerror(errno));
		goto fail;
	}

	/* the bound rings, from the requested mode only */
	mode = d->req.nr_flags & NR_REG_MASK;
	switch (mode) {
	case NR_REG_SW:		/* the first host ring of each direction */
		d->first_tx_ring = d->last_tx_ring = d->req.nr_tx_rings;
		d->first_rx_ring = d->last_rx_ring = d->req.nr_rx_rings;
		break;
	case NR_REG_ALL_NIC:
		d->first_tx_ring = d->first_rx_ring = 0;
		d->last_tx_ring = (uint16_t)(d->req.nr_tx_rings - 1);
		d->last_rx_ring = (uint16_t)(d->req.nr_rx_rings - 1);
		break;
	case NR_REG_NIC_SW:
		d->first_tx_ring = d->first_rx_ring = 0;
		d->last_tx_ring = d->req.nr_tx_rings;
		d->last_rx_ring = d->req.nr_rx_rings;
		break;
	case NR_REG_ONE_NIC:
		d->first_tx_ring = d->last_tx_ring =
		    d->first_rx_ring = d->last_rx_ring =
		    d->req.nr_ringid & NETMAP_RING_MASK;
		break;
	default:		/* pipes and the rest: ring 0 */
		d->first_tx_ring = d->last_tx_ring = 0;
		d->first_rx_ring = d->last_rx_ring = 0;
		break;
	}

	/* with a parent, NM_OPEN_NO_MMAP still goes through nm_mmap(),
	 * which then reuses the parent's mapping */
	if ((!(new_flags & NM_OPEN_NO_MMAP) || parent != NULL) &&
	    nm_mmap(d, parent) != 0) {
		snprintf(errmsg, sizeof(errmsg), "mmap failed: %s",
		    strerror(errno));
		goto fail;
	}

	d->cur_tx_ring = d->first_tx_ring;
	d->cur_rx_ring = d->first_rx_ring;
	return d;

fail:
	saved = errno;
	nm_close(d);
	if (errmsg[0] != '\0')
		nm_dlog_(__func__, __LINE__, "%s %s", errmsg, ifname);
	errno = saved != 0 ? saved : EINVAL;
	return NULL;
}

/*
 * nm_inject - queue one packet for transmission (like pcap_inject).
 * @d:		the descriptor
 * @buf, @size:	the packet
 *
 * Tries the bound TX rings in turn, starting at d->cur_tx_ring, and uses
 * the first one with enough free slots from ring->cur on: the packet is
 * copied in buffer-sized fragments (NS_MOREFRAG on all but the last; slot
 * flags are overwritten), then head = cur = the slot after it.  Does not
 * sync: call NIOCTXSYNC or poll() to send.  Returns size, or 0 if no ring
 * had room.
 */
static inline int __attribute__((__unused__))
nm_inject(struct nm_desc *d, const void *buf, size_t size)
{
	int nrings = d->last_tx_ring - d->first_tx_ring + 1;
	unsigned int ri = d->cur_tx_ring;
	const char *src = (const char *)buf;
	int c;

	for (c = 0; c < nrings; c++, ri++) {
		struct netmap_ring *ring;
		uint32_t bufsz, avail, need, i, k;
		size_t rem;

		if (ri > d->last_tx_ring)
			ri = d->first_tx_ring;
		ring = NETMAP_TXRING(d->nifp, ri);
		bufsz = ring->nr_buf_size;
		if (bufsz == 0)
			continue;
		/* free slots from cur up to (not including) tail */
		avail = ring->tail >= ring->cur ? ring->tail - ring->cur :
		    ring->tail + ring->num_slots - ring->cur;
		need = size == 0 ? 1 : (uint32_t)((size + bufsz - 1) / bufsz);
		if (size > (size_t)avail * bufsz || need > avail)
			continue;

		i = ring->cur;
		rem = size;
		for (k = 1; k < need; k++) {
			struct netmap_slot *slot = &ring->slot[i];

			nm_pkt_copy(src, NETMAP_BUF(ring, slot->buf_idx),
			    (int)bufsz);
			slot->len = (uint16_t)bufsz;
			slot->flags = NS_MOREFRAG;
			src += bufsz;
			rem -= bufsz;
			i = nm_ring_next(ring, i);
		}
		nm_pkt_copy(src, NETMAP_BUF(ring, ring->slot[i].buf_idx),
		    (int)rem);
		ring->slot[i].len = (uint16_t)rem;
		ring->slot[i].flags = 0;
		ring->head = ring->cur = nm_ring_next(ring, i);
		d->cur_tx_ring = (uint16_t)ri;
		return (int)size;
	}
	return 0;
}

/*
 * nm_dispatch - hand received packets to a callback (like pcap_dispatch).
 * @d:		the descriptor
 * @cnt:	most packets to process; <= 0 means all available
 * @cb:		callback, called as cb(arg, &d->hdr, buffer)
 * @arg:	first argument of the callback
 *
 * Reads the bound RX rings in turn from d->cur_rx_ring, each from
 * ring->cur on.  A packet spans the slots chained by NS_MOREFRAG:
 * hdr.len is the sum of their lengths, hdr.caplen covers the fragments
 * that follow each other contiguously in memory (full buffers with
 * consecutive indices).  The slots are released (head = cur = after the
 * packet) before the callback sees them, and each packet is delivered when
 * the next one has been found, so hdr.flags is NM_MORE_PKTS for all but
 * the last, which gets 0.  Does not sync.  Returns the number of packets.
 */
static inline int __attribute__((__unused__))
nm_dispatch(struct nm_desc *d, int cnt, nm_cb_t cb, unsigned char *arg)
{
	int nrings = d->last_rx_ring - d->first_rx_ring + 1;
	unsigned int ri = d->cur_rx_ring;
	int c, got = 0;

	d->hdr.buf = NULL;
	d->hdr.flags = NM_MORE_PKTS;
	d->hdr.d = d;
	if (cnt <= 0)
		cnt = -1;		/* never equal to got */

	for (c = 0; c < nrings && got != cnt; c++, ri++) {
		struct netmap_ring *ring;

		if (ri > d->last_rx_ring)
			ri = d->first_rx_ring;
		ring = NETMAP_RXRING(d->nifp, ri);
		for (; !nm_ring_empty(ring) && got != cnt; got++) {
			struct netmap_slot *slot;
			unsigned char *frag;
			uint32_t i;
			int contiguous = 1;

			if (d->hdr.buf != NULL)	/* the previous packet */
				cb(arg, &d->hdr, d->hdr.buf);

			i = ring->cur;
			slot = &ring->slot[i];
			d->cur_rx_ring = (uint16_t)ri;
			d->hdr.slot = slot;
			d->hdr.buf = (uint8_t *)NETMAP_BUF(ring, slot->buf_idx);
			d->hdr.len = d->hdr.caplen = slot->len;
			frag = d->hdr.buf;
			while (slot->flags & NS_MOREFRAG) {
				unsigned char *next;
				int full = slot->len == ring->nr_buf_size;

				i = nm_ring_next(ring, i);
				slot = &ring->slot[i];
				next = (unsigned char *)NETMAP_BUF(ring,
				    slot->buf_idx);
				d->hdr.len += slot->len;
				if (contiguous && full &&
				    next == frag + ring->nr_buf_size) {
					d->hdr.caplen += slot->len;
					frag = next;
				} else {
					contiguous = 0;
				}
			}
			d->hdr.ts = ring->ts;
			ring->head = ring->cur = nm_ring_next(ring, i);
		}
	}
	if (d->hdr.buf != NULL) {	/* the last packet */
		d->hdr.flags = 0;
		cb(arg, &d->hdr, d->hdr.buf);
	}
	return got;
}

/*
 * nm_nextpkt - return the next received packet (like pcap_next).
 * @d:		the descriptor
 * @hdr:	filled with ts, len and caplen of the packet
 *
 * Looks at the bound RX rings in turn from d->cur_rx_ring and takes the
 * slot at ring->cur of the first non-empty one, releasing it at once
 * (head = cur = next slot).  One slot only: NS_MOREFRAG is not followed.
 * Does not sync.  Returns the packet's buffer, or NULL if all rings are
 * empty.
 */
static inline unsigned char * __attribute__((__unused__))
nm_nextpkt(struct nm_desc *d, struct nm_pkthdr *hdr)
{
	int nrings = d->last_rx_ring - d->first_rx_ring + 1;
	unsigned int ri = d->cur_rx_ring;
	int c;

	for (c = 0; c < nrings; c++, ri++) {
		struct netmap_ring *ring;
		struct netmap_slot *slot;

		if (ri > d->last_rx_ring)
			ri = d->first_rx_ring;
		ring = NETMAP_RXRING(d->nifp, ri);
		if (nm_ring_empty(ring))
			continue;
		slot = &ring->slot[ring->cur];
		hdr->ts = ring->ts;
		hdr->len = hdr->caplen = slot->len;
		ring->head = ring->cur = nm_ring_next(ring, ring->cur);
		d->cur_rx_ring = (uint16_t)ri;
		return (unsigned char *)NETMAP_BUF(ring, slot->buf_idx);
	}
	return NULL;
}

#ifdef __cplusplus
}
#endif

#endif /* !HAVE_NETMAP_WITH_LIBS */
#endif /* NETMAP_WITH_LIBS */

#endif /* _NET_NETMAP_USER_H_ */
