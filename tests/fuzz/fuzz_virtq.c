/*
 * fuzz_virtq - libFuzzer target: the split-virtqueue device side
 * (daemon/vm/virtq.c) over guest memory the fuzzer writes: available
 * ring, descriptor table, indirect tables, indices.  Every segment it
 * hands out is touched, so a pointer outside guest memory is an ASan
 * report.
 *
 * Built by `make fuzz` (build-fuzz/fuzz/fuzz_virtq); by hand:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Icommon \
 *       -D_GNU_SOURCE tests/fuzz/fuzz_virtq.c -o fuzz_virtq
 *   ./fuzz_virtq -max_total_time=60 tests/fuzz/corpus/virtq
 * Seeds (corpus/virtq/: a few valid chains of each shape) come from this
 * file built with -DVU_FUZZ_SEED and run with the directory as argument.
 *
 * Input: byte 0 queue size (a power of two up to 64), byte 1 flags
 * (event index, indirect, receive queue, kick, small segment room),
 * bytes 2-3 the base, then the guest memory image (64 KB, two regions of
 * 32 KB at guest address 0x10000), rings packed at its start so that
 * short inputs reach them: descriptor table, available ring, used ring.
 */
#include "../../daemon/vm/virtq.c"
#include "../../daemon/vm/vu_mem.c"

#include <stdio.h>
#include <stdlib.h>

#define MEM (64u << 10)
#define GPA 0x10000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#ifdef VU_FUZZ_SEED
int main(int argc, char **argv);
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nmd_vu_seg seg[UNM_VQ_MAX_SEGS];
	struct nmd_vu_mem m;
	struct nmd_vq vq;
	char *g;
	unsigned i, rounds;
	uint8_t fl;
	uint16_t base;

	if (size < 4)
		return 0;
	/* exactly MEM bytes on the heap: ASan sees any access past them */
	g = calloc(1, MEM);
	if (!g)
		return 0;
	memcpy(g, data + 4, size - 4 < MEM ? size - 4 : MEM);
	memset(&m, 0, sizeof(m));
	m.n = 2;
	m.r[0] = (struct nmd_vu_region){ .gpa = GPA, .size = MEM / 2, .host = g };
	m.r[1] = (struct nmd_vu_region){ .gpa = GPA + MEM / 2, .size = MEM / 2, .host = g + MEM / 2 };
	memset(&vq, 0, sizeof(vq));
	vq.num = (uint16_t)(1u << (data[0] % 7));
	vq.mask = (uint16_t)(vq.num - 1);
	fl = data[1];
	base = (uint16_t)(data[2] | data[3] << 8);
	vq.event_idx = fl & 1;
	vq.indirect = fl & 2;
	vq.mem = &m;
	vq.desc = (void *)g;
	vq.avail = (void *)(g + 16u * vq.num);
	vq.used = (void *)(g + ((16u * vq.num + 6u + 2u * vq.num + 3u) & ~3u));
	if (!nmd_vq_start(&vq, base, fl & 8))
		goto out;
	for (rounds = 0; rounds < 64; rounds++) {
		struct nmd_vq_chain c;
		unsigned maxseg = fl & 16 ? 1 + rounds % UNM_VQ_MAX_SEGS : UNM_VQ_MAX_SEGS;
		int r = nmd_vq_pop(&vq, fl & 4, seg, maxseg, &c);
		uint32_t sum = 0;

		if (r < 0 && r != -E2BIG)
			break;
		if (r <= 0) {
			if (nmd_vq_kick_enable(&vq))
				continue;
			break;
		}
		for (i = 0; i < c.nseg; i++) {
			if (fl & 4)
				memset(seg[i].p, 0x5a, seg[i].len);
			else
				sum += (uint8_t)seg[i].p[0] + (uint8_t)seg[i].p[seg[i].len - 1];
		}
		if (rounds % 5 == 4) {
			nmd_vq_unpop(&vq, 1);
			continue;
		}
		nmd_vq_push(&vq, c.head, sum ? c.len : 0);
		if (rounds % 3 == 0)
			nmd_vq_flush(&vq);
		nmd_vq_kick_disable(&vq);
	}
	nmd_vq_flush(&vq);
out:
	free(g);
	return 0;
}

#ifdef VU_FUZZ_SEED
/* Seeds: a 16-entry ring (rings packed at the image's start as above)
 * with chains of every legal shape: one descriptor, three, an indirect
 * table of two, and buffers that cross from one region into the next. */
static void put_desc(uint8_t *img, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	struct nmd_vring_desc d = { addr, len, flags, next };

	memcpy(img + 4 + i * sizeof(d), &d, sizeof(d));
}

static int write_seed(const char *dir, const char *name, uint8_t flags)
{
	static uint8_t img[4 + 0x900];
	const unsigned num = 16, avail = 16 * 16, buf = 0x1000;
	uint16_t ring[4] = { 0, 1, 4, 5 }, idx = 4;
	uint16_t w = flags & 4 ? UNM_VRING_DESC_F_WRITE : 0;
	char path[512];
	FILE *f;

	memset(img, 0, sizeof(img));
	img[0] = 4;		/* 1 << 4 = 16 entries */
	img[1] = flags;
	put_desc(img, 0, GPA + buf, 1514, w, 0);
	put_desc(img, 1, GPA + buf, 12, w | UNM_VRING_DESC_F_NEXT, 2);
	put_desc(img, 2, GPA + buf + 12, 500, w | UNM_VRING_DESC_F_NEXT, 3);
	put_desc(img, 3, GPA + buf + 512, 1000, w, 0);
	put_desc(img, 4, GPA + 0x800, 32, UNM_VRING_DESC_F_INDIRECT, 0);
	put_desc(img, 5, GPA + MEM / 2 - 100, 300, w, 0);	/* crosses regions */
	/* the indirect table at image offset 0x800 */
	{
		struct nmd_vring_desc t[2] = {
			{ GPA + buf, 12, (uint16_t)(w | UNM_VRING_DESC_F_NEXT), 1 },
			{ GPA + buf + 12, 1000, w, 0 },
		};

		memcpy(img + 4 + 0x800, t, sizeof(t));
	}
	memcpy(img + 4 + avail + 2, &idx, 2);
	memcpy(img + 4 + avail + 4, ring, sizeof(ring));
	(void)num;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(img, 1, sizeof(img), f) != sizeof(img) || fclose(f))
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	return write_seed(argv[1], "tx-event-idx", 1 | 2 | 8) ||
	       write_seed(argv[1], "rx-event-idx", 1 | 2 | 4) ||
	       write_seed(argv[1], "tx-flags", 2 | 8);
}
#endif
