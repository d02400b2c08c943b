/*
 * 41_vale_module_swap - replacing a switch's module while traffic flows.
 *
 * Test objective: the forwarding threads change logic between two
 * batches, so a swap loses nothing -- not even the frames in flight --
 * and never crashes netmapd.  While another process replaces the
 * switch's logic as fast as it can (learn.so, portacl.so, the built-in
 * bridge, l3fwd.so, in turn: each floods these frames to the one other
 * port),
 *   1. paced traffic (bursts of 64, each taken by the switch before the
 *      receiver empties its ring, so the ring never overflows) arrives
 *      complete: every frame exactly once, in order, intact;
 *   2. a flood (sender never waits, receiver takes what it can) is fully
 *      accounted for: frames forwarded by the sender's port = frames
 *      delivered + frames dropped by the receiver's full ring, with no
 *      drop and no invalid verdict from any logic.
 * At least 30 swaps must happen during each phase.
 *
 * Operations: ports vale41s:tx and :rx in this process; the swapper is a
 * child process talking to netmapd with UNM_REQ_VALE_MODULE, stopped
 * through a shared flag; counters from UNM_REQ_VALE_STATS.
 */
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "41_vale_module_util.h"

#define SW "vale41s"
#define TAG 4141
#define MIN_SWAPS 30

struct shared {
	_Atomic int stop;
	_Atomic unsigned swaps;
};

static void swapper(struct shared *sh, const char *const path[3], const char *const args[3])
{
	unsigned k = 0;

	while (!atomic_load(&sh->stop)) {
		int e;

		if (k % 4 == 2)
			e = vm_request(SW, UNM_VALE_MOD_UNLOAD, NULL, NULL, NULL);
		else
			e = vm_request(SW, UNM_VALE_MOD_LOAD, path[k % 4 == 3 ? 2 : k % 4],
				       args[k % 4 == 3 ? 2 : k % 4], NULL);
		if (e) {
			fprintf(stderr, "swap %u failed: %s: %s\n", k, strerror(e), unm_reason());
			_exit(1);
		}
		k++;
		atomic_store(&sh->swaps, k);
	}
	_exit(0);
}

static pid_t start_swapper(struct shared *sh, const char *const path[3], const char *const args[3])
{
	pid_t pid;

	atomic_store(&sh->stop, 0);
	atomic_store(&sh->swaps, 0);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0)
		swapper(sh, path, args);
	return pid;
}

static unsigned stop_swapper(struct shared *sh, pid_t pid)
{
	int status;

	atomic_store(&sh->stop, 1);
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the swapper failed (status %#x)",
	      status);
	return atomic_load(&sh->swaps);
}

int main(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const char *const path[3] = { vm_stage("learn"), vm_stage("portacl"), vm_stage("l3fwd") };
	const char *const args[3] = { "", "default=pass", "nonip broadcast default drop" };
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct nmport_d *tx, *rx;
	struct unm_vale_stats stx, srx;
	uint8_t smac[6], f[60], buf[2048];
	uint32_t seq = 0, next = 1;
	uint64_t got = 0, t0;
	unsigned swaps;
	pid_t pid;
	int len;

	CHECK(sh != MAP_FAILED, "mmap: %s", strerror(errno));
	vt_mac(smac, 0x4130);
	tx = vt_open(SW ":tx");
	rx = vt_open(SW ":rx");

	/* 1. paced: nothing may be lost */
	pid = start_swapper(sh, path, args);
	t0 = vt_now_ms();
	while (vt_now_ms() - t0 < 2000 || atomic_load(&sh->swaps) < MIN_SWAPS) {
		int k;

		CHECK(vt_now_ms() - t0 < 20000, "only %u swaps in 20 s", atomic_load(&sh->swaps));
		for (k = 0; k < 64; k++) {
			vt_frame(f, sizeof(f), bcast, smac, TAG, ++seq);
			CHECK(vt_queue(tx, f, sizeof(f), 0) == 0, "TX ring full");
		}
		vt_flush(tx, 5000);
		while ((len = vt_recv(rx, buf, sizeof(buf), 0, NULL, NULL)) >= 0) {
			CHECK(len == 60 && vt_frame_ok(buf, 60, TAG, next),
			      "frame %u lost, duplicated or damaged (got %d bytes, seq %u)", next, len,
			      len >= 22 ? ((uint32_t)buf[18] | (uint32_t)buf[19] << 8 |
					   (uint32_t)buf[20] << 16 | (uint32_t)buf[21] << 24) : 0);
			next++;
			got++;
		}
		CHECK(next == seq + 1, "after a burst: %u frames of %u arrived", next - 1, seq);
	}
	swaps = stop_swapper(sh, pid);
	printf("ok: %u paced frames, every one delivered once and in order, across %u swaps\n",
	       seq, swaps);

	/* 2. flood: every frame accounted for */
	pid = start_swapper(sh, path, args);
	t0 = vt_now_ms();
	for (len = 0; vt_now_ms() - t0 < 1000 || atomic_load(&sh->swaps) < MIN_SWAPS; len++) {
		CHECK(vt_now_ms() - t0 < 20000, "only %u swaps in 20 s", atomic_load(&sh->swaps));
		while (vt_queue(tx, f, sizeof(f), 0) == 0)
			;
		CHECK(ioctl(tx->fd, NIOCTXSYNC, NULL) == 0, "txsync: %s", strerror(errno));
		/* a receiver slower than the sender: its ring overflows */
		if (len % 4 == 0)
			got += vt_drain(rx);
	}
	swaps = stop_swapper(sh, pid);
	vt_flush(tx, 5000);
	got += vt_drain(rx);
	CHECK(vt_stats(SW ":tx", &stx) == 0 && vt_stats(SW ":rx", &srx) == 0, "counters");
	CHECK(stx.tx_drops == 0 && stx.errors == 0, "sender: %llu frames dropped by the switch, "
	      "%llu errors", (unsigned long long)stx.tx_drops, (unsigned long long)stx.errors);
	CHECK(srx.rx_pkts == got, "receiver: the switch delivered %llu frames, we took %llu",
	      (unsigned long long)srx.rx_pkts, (unsigned long long)got);
	CHECK(stx.tx_pkts == srx.rx_pkts + srx.rx_drops, "forwarded %llu != delivered %llu + "
	      "dropped on a full ring %llu", (unsigned long long)stx.tx_pkts,
	      (unsigned long long)srx.rx_pkts, (unsigned long long)srx.rx_drops);
	CHECK(vm_info(SW).invalid == 0, "invalid verdicts");
	printf("ok: flood across %u swaps: %llu forwarded = %llu delivered + %llu dropped on a "
	       "full ring\n", swaps, (unsigned long long)stx.tx_pkts,
	       (unsigned long long)srx.rx_pkts, (unsigned long long)srx.rx_drops);

	vm_unload(SW);
	nmport_close(tx);
	nmport_close(rx);
	return 0;
}
