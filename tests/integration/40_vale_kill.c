/*
 * 40_vale_kill - a client killed mid-transfer releases its port at once.
 *
 * Test objective: SIGKILL of a process that is blasting frames into a
 * switch (or sleeping in poll() on a port) removes its ephemeral port from
 * the switch right away; the switch and the other ports go on working.
 *
 * Operations: fork a child that floods vale40k:victim's broadcasts (and a
 * second child that sleeps in poll() on vale40k:sleeper); once b sees the
 * flood, SIGKILL both; wait until VALE_LIST no longer shows them (2 s at
 * most); then a sends 1000 frames to b, all of which must arrive.  The
 * children are killed by pid on every exit path.
 */
#include <signal.h>
#include <sys/wait.h>

#include "40_vale_util.h"

static pid_t kids[2];

static void kill_kids(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	}
}

static void flooder(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct nmport_d *v = nmport_open("vale40k:victim");
	uint8_t src[6], f[60];
	uint32_t seq = 0;

	if (!v)
		_exit(2);
	vt_mac(src, 0x4e00);
	for (;;) {
		struct pollfd pfd = { .fd = v->fd, .events = POLLOUT };

		vt_frame(f, sizeof(f), bcast, src, 0xee, seq);
		while (vt_queue(v, f, sizeof(f), 0) == 0)
			seq++;
		poll(&pfd, 1, 100);
	}
}

static void sleeper(void)
{
	struct nmport_d *s = nmport_open("vale40k:sleeper");
	struct pollfd pfd;

	if (!s)
		_exit(2);
	pfd.fd = s->fd;
	pfd.events = POLLIN;
	for (;;)
		poll(&pfd, 1, -1);
}

int main(void)
{
	struct nmport_d *a, *b;
	uint8_t ma[6], mb[6], f[60], buf[128];
	uint32_t i, got = 0, flood = 0;
	uint64_t end;

	atexit(kill_kids);
	a = vt_open("vale40k:a");
	b = vt_open("vale40k:b");
	vt_mac(ma, 0x4a);
	vt_mac(mb, 0x4b);
	kids[0] = fork();
	CHECK(kids[0] >= 0, "fork");
	if (kids[0] == 0)
		flooder();
	kids[1] = fork();
	CHECK(kids[1] >= 0, "fork");
	if (kids[1] == 0)
		sleeper();

	/* the flood is under way, and the sleeper's port exists */
	end = vt_now_ms() + 5000;
	while ((flood < 10000 || vt_port_idx("vale40k:sleeper") == NM_BDG_NOPORT) &&
	       vt_now_ms() < end)
		flood += vt_drain(b) + (vt_recv(b, buf, sizeof(buf), 10, NULL, NULL) >= 0);
	CHECK(flood >= 10000, "b saw only %u frames of the flood", flood);
	CHECK(vt_port_idx("vale40k:sleeper") != NM_BDG_NOPORT, "the sleeper's port never appeared");
	printf("ok: b received %u frames of the flood\n", flood);

	kill_kids();
	end = vt_now_ms() + 2000;
	while ((vt_port_idx("vale40k:victim") != NM_BDG_NOPORT ||
		vt_port_idx("vale40k:sleeper") != NM_BDG_NOPORT) && vt_now_ms() < end)
		usleep(1000);
	CHECK(vt_port_idx("vale40k:victim") == NM_BDG_NOPORT, "the victim's port is still there");
	CHECK(vt_port_idx("vale40k:sleeper") == NM_BDG_NOPORT, "the sleeper's port is still there");
	printf("ok: both killed clients' ports were released\n");

	vt_drain(b);
	for (i = 0; i < 1000; i++) {
		vt_frame(f, sizeof(f), mb, ma, 0x4b, i);
		CHECK(vt_queue(a, f, sizeof(f), 0) == 0, "a: no room");
		if (i % 100 == 99) {
			vt_flush(a, 5000);
			while (vt_recv(b, buf, sizeof(buf), 0, NULL, NULL) == 60) {
				CHECK(vt_frame_ok(buf, 60, 0x4b, got), "b: frame %u wrong", got);
				got++;
			}
		}
	}
	CHECK(got == 1000, "b got %u of 1000 frames after the kills", got);
	printf("ok: a and b exchange frames as before\n");
	nmport_close(a);
	nmport_close(b);
	return 0;
}
