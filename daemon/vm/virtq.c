/*
 * virtq.c - split virtqueue, device side: taking chains, returning them,
 * and notification suppression both ways.  See virtq.h for the trust
 * rules and the memory-ordering labels (A1, R1, F1, F2) used below.
 */
#include <errno.h>

#include "virtq.h"

static int vq_bad(struct nmd_vq *vq, const char *why)
{
	vq->err = why;
	return -EIO;
}

/* Read a descriptor once: after the compiler barrier the local copy is
 * the only one the compiler may use, whatever the guest writes meanwhile.
 * memcpy also copes with indirect tables that are not 16-byte aligned. */
static inline void vq_read_desc(struct nmd_vring_desc *out, const char *src)
{
	memcpy(out, src, sizeof(*out));
	__asm__ __volatile__("" ::: "memory");
}

int nmd_vq_pop(struct nmd_vq *vq, bool writable, struct nmd_vu_seg *seg, unsigned maxseg,
	       struct nmd_vq_chain *c)
{
	uint16_t last = vq->last_avail, head;
	const char *tbl = (const char *)vq->desc;
	uint32_t tn = vq->num, i, count = 0;
	uint64_t total = 0;
	unsigned n = 0;
	bool in_table = false;
	struct nmd_vring_desc d;
	int r;

	if (last == vq->avail_seen) {
		/* A1: the entries and descriptors read below were written
		 * before this index */
		uint16_t a = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);

		if ((uint16_t)(a - last) > vq->num)
			return vq_bad(vq, "available index moved by more than the queue size");
		vq->avail_seen = a;
		if (a == last)
			return 0;
	}
	head = __atomic_load_n(&vq->avail->ring[last & vq->mask], __ATOMIC_RELAXED);
	if (head >= vq->num)
		return vq_bad(vq, "available ring entry out of range");
	i = head;
	for (;;) {
		vq_read_desc(&d, tbl + (size_t)i * sizeof(d));
		if (d.flags & UNM_VRING_DESC_F_INDIRECT) {
			if (!vq->indirect)
				return vq_bad(vq, "indirect descriptor, not negotiated");
			if (in_table)
				return vq_bad(vq, "indirect descriptor inside an indirect table");
			if (count)
				return vq_bad(vq, "indirect descriptor inside a chain");
			if (d.flags & UNM_VRING_DESC_F_NEXT)
				return vq_bad(vq, "indirect descriptor with NEXT set");
			if (d.len == 0 || d.len % sizeof(d) ||
			    d.len / sizeof(d) > UNM_VQ_MAX_CHAIN)
				return vq_bad(vq, "indirect table size");
			tbl = nmd_vu_mem_gpa(vq->mem, d.addr, d.len);
			if (!tbl)
				return vq_bad(vq, "indirect table outside guest memory");
			tn = d.len / sizeof(d);
			i = 0;
			in_table = true;
			continue;
		}
		if (!(d.flags & UNM_VRING_DESC_F_WRITE) == writable)
			return vq_bad(vq, writable ? "read-only descriptor in a receive chain"
					  : "writable descriptor in a transmit chain");
		if (d.len) {
			r = nmd_vu_mem_gpa_segs(vq->mem, d.addr, d.len, seg, &n, maxseg);
			if (r == -E2BIG) {
				if (maxseg >= UNM_VQ_MAX_SEGS)
					return vq_bad(vq, "chain has too many segments");
				return -E2BIG;
			}
			if (r < 0)
				return vq_bad(vq, "buffer outside guest memory");
			total += d.len;
		}
		if (!(d.flags & UNM_VRING_DESC_F_NEXT))
			break;
		/* a chain longer than its table revisits a descriptor */
		if (++count >= tn || count >= UNM_VQ_MAX_CHAIN)
			return vq_bad(vq, "descriptor chain loops or is too long");
		i = d.next;
		if (i >= tn)
			return vq_bad(vq, "next descriptor index out of range");
	}
	if (total > UINT32_MAX)
		return vq_bad(vq, "chain longer than 4 GB");
	c->head = head;
	c->nseg = (uint16_t)n;
	c->len = (uint32_t)total;
	vq->last_avail = (uint16_t)(last + 1);
	return 1;
}

bool nmd_vq_flush(struct nmd_vq *vq)
{
	uint16_t old = vq->used_pub, now = vq->used_idx;

	if (old == now)
		return false;
	/* R1: the used elements written by nmd_vq_push() before the index */
	__atomic_store_n(&vq->used->idx, now, __ATOMIC_RELEASE);
	vq->used_pub = now;
	/* F1: our index store before the load of the driver's interrupt
	 * request; the driver fences between writing the request and
	 * re-reading the index, so one of us sees the other */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx) {
		uint16_t ev = __atomic_load_n(nmd_vq_used_event(vq), __ATOMIC_RELAXED);

		return nmd_vring_need_event(ev, now, old);
	}
	return !(__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED) &
		 UNM_VRING_AVAIL_F_NO_INTERRUPT);
}

bool nmd_vq_kick_enable(struct nmd_vq *vq)
{
	uint16_t a;

	if (vq->event_idx)
		__atomic_store_n(nmd_vq_avail_event(vq), vq->last_avail, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vq->used->flags, 0, __ATOMIC_RELAXED);
	vq->kick_on = true;
	/* F2: our request before our re-read of avail->idx; the driver fences
	 * between bumping avail->idx and reading our request */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* A1 */
	a = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	return a != vq->last_avail;
}

void nmd_vq_kick_disable(struct nmd_vq *vq)
{
	if (!vq->kick_on)
		return;
	/* With event_idx, avail_event stays where it was: the driver kicks
	 * once more at most, when it passes it. */
	if (!vq->event_idx)
		__atomic_store_n(&vq->used->flags, UNM_VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
	vq->kick_on = false;
}

bool nmd_vq_start(struct nmd_vq *vq, uint16_t base, bool kick)
{
	uint16_t used = __atomic_load_n(&vq->used->idx, __ATOMIC_RELAXED);

	/* Chains between used and base were taken by someone and never
	 * returned: take them again rather than lose the guest's buffers. */
	vq->last_avail = used;
	vq->avail_seen = used;
	vq->used_idx = used;
	vq->used_pub = used;
	vq->err = NULL;
	if ((uint16_t)(base - used) > vq->num) {
		vq->err = "used index and base more than a queue apart";
		return false;
	}
	vq->kick_on = true;
	if (kick) {
		nmd_vq_kick_enable(vq);
	} else {
		nmd_vq_kick_disable(vq);
		/* an event index just behind us: no kick for 64K buffers */
		if (vq->event_idx)
			__atomic_store_n(nmd_vq_avail_event(vq), (uint16_t)(used - 1),
					 __ATOMIC_RELAXED);
	}
	return true;
}
