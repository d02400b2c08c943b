/*
 * ivt_box.h - what the ivshmem test programs (ivshmem_host on the host,
 * ivshmem_guest inside a QEMU guest, ivshmem_client as a fake QEMU) keep
 * in the shared memory.
 *
 * Layout: one mailbox per peer id at offset 0 (64 bytes each), a pattern
 * the host writes at IVT_DATA_OFS, and per peer a reply area where the
 * guest writes the pattern transformed (each byte ^ IVT_XOR ^ id), which
 * the host checks.  Each mailbox field has one writer, named beside it;
 * the reader reads it once into a local and checks it.
 */
#ifndef IVT_BOX_H
#define IVT_BOX_H

#include <stdatomic.h>
#include <stdint.h>

#define IVT_MAGIC	0x554e4d49u	/* "IMNU" */
#define IVT_MAX_PEERS	16		/* ids 1..15 have a mailbox */
#define IVT_DATA_OFS	4096u
#define IVT_DATA_LEN	16384u
#define IVT_REPLY_OFS(id) (IVT_DATA_OFS + (1u + (id)) * IVT_DATA_LEN)
#define IVT_MIN_SIZE	IVT_REPLY_OFS(IVT_MAX_PEERS)
#define IVT_XOR		0xa5u

/* the guest's commands (the host acts on a ring of vector 0) */
enum { IVT_CMD_NONE, IVT_CMD_DATA, IVT_CMD_PING, IVT_CMD_DONE };
/* the host's verdicts on the reply */
enum { IVT_VERDICT_NONE, IVT_VERDICT_OK, IVT_VERDICT_BAD };

struct ivt_box {
	_Atomic uint32_t magic;		/* host, before any guest runs */
	_Atomic uint32_t seed;		/* host, before any guest runs */
	_Atomic uint32_t verdict;	/* host: on the reply (IVT_VERDICT_*) */
	_Atomic uint32_t pong;		/* host: last ping round answered */
	_Atomic uint32_t cmd;		/* guest: IVT_CMD_* */
	_Atomic uint32_t round;		/* guest: ping round */
	_Atomic uint32_t guest_id;	/* guest: its IVPosition, for the host */
	_Atomic uint32_t kicks;		/* host: delayed kicks sent */
	uint32_t pad[8];
};

_Static_assert(sizeof(struct ivt_box) == 64, "one mailbox per cache line");

/* the pattern: xorshift32 bytes from the seed */
static inline uint8_t ivt_pattern(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return (uint8_t)(x >> 24);
}

#endif /* IVT_BOX_H */
