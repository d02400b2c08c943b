/*
 * virtq.h - the device side of a virtio 1.1 split virtqueue whose rings
 * live in guest memory (vhost-user).
 *
 * Internal to daemon/vm.  The driver (the guest) owns the descriptor
 * table and the available ring; the device (we) owns the used ring.  The
 * guest can write anything anywhere in its memory at any time, so every
 * value read from it is untrusted: the available index and each ring
 * entry and descriptor are read exactly once into locals, validated, and
 * only the locals are used.  A chain is walked with a bounded loop (at
 * most UNM_VQ_MAX_CHAIN descriptors, never more than the table holds,
 * which also catches loops) and each descriptor's buffer is translated to
 * segments that lie wholly inside mapped guest memory.  A guest that
 * breaks a rule makes nmd_vq_pop() fail with -EIO and vq->err naming the
 * rule; the caller stops using the queue.
 *
 * Memory ordering (the guest is the partner of every fence):
 *   A1 acquire load of avail->idx        pairs with the driver's write
 *      barrier between filling ring entries/descriptors and bumping idx;
 *   R1 release store of used->idx        pairs with the driver's read
 *      barrier between reading used->idx and reading used elements;
 *   F1 full fence after R1, before reading used_event / avail->flags:
 *      pairs with the driver's full barrier between re-enabling
 *      interrupts (used_event or flags) and re-reading used->idx;
 *   F2 full fence after writing avail_event / used->flags, before
 *      re-reading avail->idx: pairs with the driver's full barrier between
 *      bumping avail->idx and reading avail_event / used->flags (Dekker:
 *      either we see its new buffers or it sees our request to kick).
 *
 * One thread at a time per queue: the caller serialises every function
 * below on the same queue (see the thread model in vhost_user.h).
 */
#ifndef NMD_VIRTQ_H
#define NMD_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vu_mem.h"

/* virtio feature bits (virtio 1.1, 5.1.3 and 6) */
#define UNM_VIRTIO_NET_F_CSUM		0
#define UNM_VIRTIO_NET_F_GUEST_CSUM	1
#define UNM_VIRTIO_NET_F_MTU		3
#define UNM_VIRTIO_NET_F_MAC		5
#define UNM_VIRTIO_NET_F_MRG_RXBUF	15
#define UNM_VIRTIO_NET_F_STATUS		16
#define UNM_VIRTIO_NET_F_CTRL_VQ	17
#define UNM_VIRTIO_NET_F_MQ		22
#define UNM_VIRTIO_F_NOTIFY_ON_EMPTY	24
#define UNM_VHOST_F_LOG_ALL		26
#define UNM_VIRTIO_F_ANY_LAYOUT		27
#define UNM_VIRTIO_RING_F_INDIRECT_DESC	28
#define UNM_VIRTIO_RING_F_EVENT_IDX	29
#define UNM_VHOST_USER_F_PROTOCOL_FEATURES 30
#define UNM_VIRTIO_F_VERSION_1		32
#define UNM_VIRTIO_F_ACCESS_PLATFORM	33
#define UNM_VIRTIO_F_RING_PACKED	34
#define UNM_BIT(b)			(1ull << (b))

/* descriptor and ring flags */
#define UNM_VRING_DESC_F_NEXT		1
#define UNM_VRING_DESC_F_WRITE		2
#define UNM_VRING_DESC_F_INDIRECT	4
#define UNM_VRING_AVAIL_F_NO_INTERRUPT	1
#define UNM_VRING_USED_F_NO_NOTIFY	1

#define UNM_VQ_MAX_SIZE		32768	/* virtio's largest split queue */
#define UNM_VQ_MAX_CHAIN	1024	/* descriptors walked per chain */
#define UNM_VQ_MAX_SEGS		256	/* segments per chain */

/* The rings, as the guest lays them out (little-endian: x86 guests). */
struct nmd_vring_desc {
	uint64_t addr;		/* guest physical */
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct nmd_vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];	/* num entries, then used_event */
};

struct nmd_vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct nmd_vring_used {
	uint16_t flags;
	uint16_t idx;
	struct nmd_vring_used_elem ring[];	/* num entries, then avail_event */
};

/* Bytes each part of a queue of num entries occupies, event fields
 * included (virtio 1.1, 2.6). */
#define UNM_VRING_DESC_SIZE(num)	(16ull * (num))
#define UNM_VRING_AVAIL_SIZE(num)	(6ull + 2ull * (num))
#define UNM_VRING_USED_SIZE(num)	(6ull + 8ull * (num))

/* virtio's vring_need_event(): has new_idx moved past event since old? */
static inline bool nmd_vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

struct nmd_vq {
	/* geometry: set by the protocol thread while the data path is
	 * paused (or before the queue was first published) */
	struct nmd_vring_desc *desc;
	struct nmd_vring_avail *avail;
	struct nmd_vring_used *used;
	const struct nmd_vu_mem *mem;
	uint16_t num;			/* power of two, <= UNM_VQ_MAX_SIZE */
	uint16_t mask;			/* num - 1 (num 32768 fits) */
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX */
	bool indirect;			/* VIRTIO_RING_F_INDIRECT_DESC */
	/* data path state */
	uint16_t last_avail;		/* next available entry to take */
	uint16_t avail_seen;		/* avail->idx as last read (trusted:
					 * checked against last_avail) */
	uint16_t used_idx;		/* next used entry to fill */
	uint16_t used_pub;		/* used->idx as last published */
	bool kick_on;			/* we asked the driver to kick */
	const char *err;		/* why the last nmd_vq_pop() failed */
};

struct nmd_vq_chain {
	uint16_t head;		/* descriptor index, for the used ring */
	uint16_t nseg;
	uint32_t len;		/* bytes in all segments */
};

static inline uint16_t *nmd_vq_used_event(const struct nmd_vq *vq)
{
	return &vq->avail->ring[vq->num];
}

static inline uint16_t *nmd_vq_avail_event(const struct nmd_vq *vq)
{
	return (uint16_t *)(void *)&vq->used->ring[vq->num];
}

/*
 * nmd_vq_pop - take the next available chain.
 * @writable: the chain must consist of device-writable descriptors (a
 *            receive queue) or of device-readable ones (a transmit queue)
 * @seg, @maxseg: where its segments go
 * Returns 1 (c filled, the chain is ours until pushed back), 0 (none
 * available), -E2BIG (the chain needs more than maxseg segments, maxseg
 * being less than UNM_VQ_MAX_SEGS: the chain is left where it was), or
 * -EIO (the guest broke a rule: vq->err says which).
 */
int nmd_vq_pop(struct nmd_vq *vq, bool writable, struct nmd_vu_seg *seg, unsigned maxseg,
	       struct nmd_vq_chain *c);

/* How many chains the guest has made available (0 also when the index is
 * impossible: the next nmd_vq_pop() reports that). */
static inline uint16_t nmd_vq_avail_count(struct nmd_vq *vq)
{
	/* A1 */
	uint16_t a = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t n = (uint16_t)(a - vq->last_avail);

	return n > vq->num ? 0 : n;
}

/* Give back the last n chains taken and not pushed (they will be taken
 * again, re-read and re-validated). */
static inline void nmd_vq_unpop(struct nmd_vq *vq, uint16_t n)
{
	vq->last_avail = (uint16_t)(vq->last_avail - n);
}

/* Return a chain to the driver with len bytes written into it; invisible
 * to the driver until nmd_vq_flush(). */
static inline void nmd_vq_push(struct nmd_vq *vq, uint16_t head, uint32_t len)
{
	struct nmd_vring_used_elem *e = &vq->used->ring[vq->used_idx & vq->mask];

	__atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
	vq->used_idx++;
}

/* Publish what was pushed.  Returns true if the driver asked to be
 * interrupted for it (the caller writes the call eventfd). */
bool nmd_vq_flush(struct nmd_vq *vq);

/* Ask the driver to kick us when it makes buffers available; returns true
 * if some are available already (so the caller must not sleep). */
bool nmd_vq_kick_enable(struct nmd_vq *vq);
/* Tell the driver not to bother kicking: we are polling. */
void nmd_vq_kick_disable(struct nmd_vq *vq);

/* Start taking chains at avail index base.  The used index is taken from
 * the ring; chains taken and never returned by a previous backend are
 * taken again (base moves back to the used index).  Returns false if the
 * ring's indices are impossible (vq->err says why). */
bool nmd_vq_start(struct nmd_vq *vq, uint16_t base, bool kick);

#endif /* NMD_VIRTQ_H */
