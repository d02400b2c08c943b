/*
 * Test objective: monitors of pipe ends behave as netmap's (netmap-facts
 * 5.6), with exact counts: every frame seen once, in order, intact, with
 * NS_TXMON exactly on what the monitored end sent; several monitors on one
 * end; zero-copy monitors see a frame when the end gives its slot up
 * (and chain); a full monitor keeps the newest of a batch and counts the
 * rest; an orphaned monitor hands over what it had, then reports POLLERR;
 * a monitor of an unbound port is EINVAL.  The monitored traffic arrives
 * complete all along.
 *
 * Operations (pipe names mp<pid>x{1 ...):
 *  1. copy monitors: A{ /t, /r, /rt and B} /r; A sends 100 (one txsync),
 *     B takes them, sends 50, A takes them: /t has A's 100 (NS_TXMON),
 *     /r B's 50, /rt all 150, B}/r A's 100 (no NS_TXMON); none sees a
 *     frame twice;
 *  2. zero copy: A/z shares A's region; A sends 40: nothing for /z until
 *     B released them and A synced again, then 40 with NS_TXMON, A's
 *     reclaimed slots hold other buffers and NS_BUF_CHANGED; B sends 30:
 *     nothing until A released them, then 30; a second /z gets frames
 *     only once the first released them (NS_TXMON kept);
 *  3. full: B}/r not read; A sends 1000 then 100 more: it holds 1000 and
 *     the newest 23; the counters say 1023 mirrored and 77 dropped;
 *  4. UNM_REQ_MON_STATS lists the monitors of A{ by name;
 *  5. A closes: its monitors return the 10 frames they had, then poll()
 *     says POLLERR and their counters say orphaned;
 *  6. monitors of an end nobody binds, of a pipe that does not exist:
 *     EINVAL, and nothing is created.
 */
#include "mon_util.h"

static char base[40];
static struct mrec rec[MT_MAX];

static void copy_monitors(void)
{
	struct nmport_d *a = mt_open("netmap:%s{1", base), *b = mt_open("netmap:%s}1", base);
	struct nmport_d *mt = mt_open("netmap:%s{1/t", base), *mr = mt_open("netmap:%s{1/r", base);
	struct nmport_d *mrt = mt_open("netmap:%s{1/rt", base);
	struct nmport_d *mbr = mt_open("netmap:%s}1/r", base);
	unsigned n;

	CHECK(mt->reg.nr_mem_id != a->reg.nr_mem_id, "a copy monitor has its own region");
	CHECK_EQ(mt->reg.nr_rx_rings, 1);
	CHECK_EQ(mt->reg.nr_tx_rings, 1);
	CHECK_EQ(mt->reg.nr_rx_slots, 1024);
	CHECK_EQ(mt_send(a, 0, 'A', 0, 100, 60), 100);
	n = mt_take(b, rec, MT_MAX);
	CHECK_EQ(n, 100);
	CHECK_EQ(mt_expect("B from A", rec, n, 'A', 0, 60, false), 0);
	mt_release(b);
	CHECK_EQ(mt_send(b, 0, 'B', 0, 50, 80), 50);
	n = mt_take(a, rec, MT_MAX);
	CHECK_EQ(n, 50);
	CHECK_EQ(mt_expect("A from B", rec, n, 'B', 0, 80, false), 0);
	mt_release(a);

	n = mt_take(mt, rec, MT_MAX);
	CHECK_EQ(n, 100);
	CHECK_EQ(mt_expect("A/t", rec, n, 'A', 0, 60, true), 0);
	n = mt_take(mr, rec, MT_MAX);
	CHECK_EQ(n, 50);
	CHECK_EQ(mt_expect("A/r", rec, n, 'B', 0, 80, false), 0);
	n = mt_take(mrt, rec, MT_MAX);
	CHECK_EQ(n, 150);
	CHECK_EQ(mt_expect("A/rt tx", rec, 100, 'A', 0, 60, true), 0);
	CHECK_EQ(mt_expect("A/rt rx", rec + 100, 50, 'B', 0, 80, false), 0);
	n = mt_take(mbr, rec, MT_MAX);
	CHECK_EQ(n, 100);
	CHECK_EQ(mt_expect("B/r", rec, n, 'A', 0, 60, false), 0);
	/* seen once: nothing more anywhere */
	mt_release(mt);
	mt_release(mr);
	mt_release(mrt);
	mt_release(mbr);
	CHECK_EQ(mt_pending(mt) + mt_pending(mr) + mt_pending(mrt) + mt_pending(mbr), 0);

	nmport_close(mbr);
	nmport_close(mrt);
	nmport_close(mr);
	nmport_close(mt);
	nmport_close(b);
	nmport_close(a);
}

static void zero_copy(void)
{
	struct nmport_d *a = mt_open("netmap:%s{2", base), *b = mt_open("netmap:%s}2", base);
	struct nmport_d *z = mt_open("netmap:%s{2/z", base), *z2;
	struct netmap_ring *tx = NETMAP_TXRING(a->nifp, 0);
	uint32_t bufs[64], k, first = tx->head, changed = 0, moved = 0;
	char pname[64];
	unsigned n;

	CHECK_EQ(z->reg.nr_mem_id, a->reg.nr_mem_id);
	for (k = 0; k < 40; k++)
		bufs[k] = tx->slot[(first + k) % tx->num_slots].buf_idx;
	CHECK_EQ(mt_send(a, 0, 'A', 0, 40, 64), 40);
	CHECK_EQ(mt_pending(z), 0);	/* B has not consumed them */
	n = mt_take(b, rec, MT_MAX);
	CHECK_EQ(n, 40);
	CHECK_EQ(mt_expect("B from A", rec, n, 'A', 0, 64, false), 0);
	CHECK_EQ(mt_pending(z), 0);	/* nor released them */
	mt_release(b);
	CHECK_EQ(mt_pending(z), 0);	/* A has not reclaimed them */
	ioctl(a->fd, NIOCTXSYNC, NULL);
	n = mt_take(z, rec, MT_MAX);
	CHECK_EQ(n, 40);
	CHECK_EQ(mt_expect("A/z tx", rec, n, 'A', 0, 64, true), 0);
	for (k = 0; k < 40; k++) {
		struct netmap_slot *s = &tx->slot[(first + k) % tx->num_slots];

		changed += (s->flags & NS_BUF_CHANGED) != 0;
		moved += s->buf_idx != bufs[k];
	}
	CHECK_EQ(changed, 40);
	CHECK_EQ(moved, 40);
	/* the monitor now owns the buffers A sent from */
	for (k = 0, moved = 0; k < n; k++)
		moved += rec[k].buf == bufs[k];
	CHECK_EQ(moved, 40);
	mt_release(z);

	CHECK_EQ(mt_send(b, 0, 'B', 0, 30, 70), 30);
	n = mt_take(a, rec, MT_MAX);
	CHECK_EQ(n, 30);
	CHECK_EQ(mt_expect("A from B", rec, n, 'B', 0, 70, false), 0);
	CHECK_EQ(mt_pending(z), 0);	/* A has not released them */
	mt_release(a);
	n = mt_take(z, rec, MT_MAX);
	CHECK_EQ(n, 30);
	CHECK_EQ(mt_expect("A/z rx", rec, n, 'B', 0, 70, false), 0);
	mt_release(z);

	/* a chain: the second gets what the first releases */
	z2 = mt_open("netmap:%s{2/z", base);
	CHECK_EQ(mt_send(a, 0, 'A', 40, 20, 64), 20);
	CHECK_EQ(mt_take(b, rec, MT_MAX), 20);
	mt_release(b);
	ioctl(a->fd, NIOCTXSYNC, NULL);
	CHECK_EQ(mt_pending(z2), 0);
	n = mt_take(z, rec, MT_MAX);
	CHECK_EQ(n, 20);
	CHECK_EQ(mt_expect("A/z chain 1", rec, n, 'A', 40, 64, true), 0);
	CHECK_EQ(mt_pending(z2), 0);	/* the first has not released them */
	mt_release(z);
	n = mt_take(z2, rec, MT_MAX);
	CHECK_EQ(n, 20);
	CHECK_EQ(mt_expect("A/z chain 2", rec, n, 'A', 40, 64, true), 0);
	mt_release(z2);

	/* the first goes: the second is fed by A directly */
	nmport_close(z);
	snprintf(pname, sizeof(pname), "%s{2", base);
	CHECK(mt_wait_count(a->fd, pname, 1), "netmapd did not see the first /z go");
	CHECK_EQ(mt_send(a, 0, 'A', 60, 10, 64), 10);
	CHECK_EQ(mt_take(b, rec, MT_MAX), 10);
	mt_release(b);
	ioctl(a->fd, NIOCTXSYNC, NULL);
	n = mt_take(z2, rec, MT_MAX);
	CHECK_EQ(n, 10);
	CHECK_EQ(mt_expect("A/z chain relinked", rec, n, 'A', 60, 64, true), 0);
	mt_release(z2);
	nmport_close(z2);
	nmport_close(b);
	nmport_close(a);
}

static void full_monitor(void)
{
	struct nmport_d *a = mt_open("netmap:%s{3", base), *b = mt_open("netmap:%s}3", base);
	struct nmport_d *m = mt_open("netmap:%s}3/r", base);
	struct unm_mon_stats st;
	unsigned n;

	CHECK_EQ(mt_send(a, 0, 'A', 0, 1000, 60), 1000);
	CHECK_EQ(mt_take(b, rec, MT_MAX), 1000);
	mt_release(b);
	ioctl(a->fd, NIOCTXSYNC, NULL);
	CHECK_EQ(mt_send(a, 0, 'A', 1000, 100, 60), 100);
	CHECK_EQ(mt_take(b, rec, MT_MAX), 100);
	CHECK_EQ(mt_expect("B second batch", rec, 100, 'A', 1000, 60, false), 0);
	mt_release(b);
	/* the monitor ring holds 1023: the first batch, then the newest 23 */
	n = mt_take(m, rec, MT_MAX);
	CHECK_EQ(n, 1023);
	CHECK_EQ(mt_expect("full, first batch", rec, 1000, 'A', 0, 60, false), 0);
	CHECK_EQ(mt_expect("full, newest", rec + 1000, 23, 'A', 1077, 60, false), 0);
	CHECK_EQ(mt_stats(m->fd, NULL, &st, UNM_MON_SELF, 0), 0);
	CHECK_EQ(st.pkts, 1023);
	CHECK_EQ(st.drops, 77);
	CHECK_EQ(st.busy, 0);
	CHECK_EQ(st.nr_flags, NR_MONITOR_RX);
	CHECK(strstr(st.name, "}3/r#") != NULL, "monitor name %s", st.name);
	/* the monitored end: not a monitor */
	CHECK_EQ(mt_stats(b->fd, NULL, &st, UNM_MON_SELF, 0), EINVAL);
	mt_release(m);
	nmport_close(m);
	nmport_close(b);
	nmport_close(a);
}

static void listing_and_orphans(void)
{
	struct nmport_d *a = mt_open("netmap:%s{4", base), *b = mt_open("netmap:%s}4", base);
	struct nmport_d *m1 = mt_open("netmap:%s{4/t", base), *m2 = mt_open("netmap:%s{4/z", base);
	struct unm_mon_stats st;
	char pname[64];
	unsigned n, i, found = 0;
	short ev;

	snprintf(pname, sizeof(pname), "%s{4", base);
	for (i = 0; i < 16 && mt_stats(a->fd, pname, &st, 0, i) == 0; i = st.idx + 1) {
		CHECK(strcmp(st.parent, pname) == 0, "parent %s", st.parent);
		found++;
	}
	CHECK_EQ(found, 2);
	CHECK(mt_wait_count(a->fd, "", 2), "netmapd lists 2 monitors in all");
	CHECK_EQ(mt_stats(a->fd, pname, &st, 0, 2), ENOENT);

	CHECK_EQ(mt_send(a, 0, 'A', 0, 10, 60), 10);
	CHECK_EQ(mt_take(b, rec, MT_MAX), 10);
	mt_release(b);
	ioctl(a->fd, NIOCTXSYNC, NULL);	/* /z gets them now */
	CHECK_EQ(mt_poll(m1, 0) & POLLERR, 0);
	nmport_close(a);
	/* the frames they had come out, then the error */
	n = mt_take(m1, rec, MT_MAX);
	CHECK_EQ(n, 10);
	CHECK_EQ(mt_expect("orphan /t", rec, n, 'A', 0, 60, true), 0);
	n = mt_take(m2, rec, MT_MAX);
	CHECK_EQ(n, 10);
	CHECK_EQ(mt_expect("orphan /z", rec, n, 'A', 0, 60, true), 0);
	ev = mt_poll(m1, 1000);
	CHECK(ev > 0 && (ev & POLLERR), "orphaned /t: revents 0x%x, want POLLERR", ev);
	ev = mt_poll(m2, 1000);
	CHECK(ev > 0 && (ev & POLLERR), "orphaned /z: revents 0x%x, want POLLERR", ev);
	/* netmap's ioctls ignore per-ring errors */
	CHECK_EQ(ioctl(m1->fd, NIOCRXSYNC, NULL), 0);
	CHECK_EQ(ioctl(m1->fd, NIOCTXSYNC, NULL), 0);
	CHECK_EQ(mt_stats(m1->fd, NULL, &st, UNM_MON_SELF, 0), 0);
	CHECK(st.flags & UNM_MON_ORPHAN, "counters say orphaned (flags 0x%x)", st.flags);
	CHECK_EQ(st.pkts, 10);
	/* reopening the end does not bring them back */
	a = mt_open("netmap:%s{4", base);
	ev = mt_poll(m1, 0);
	CHECK(ev > 0 && (ev & POLLERR), "still orphaned: revents 0x%x", ev);
	nmport_close(m2);
	nmport_close(m1);
	nmport_close(b);
	nmport_close(a);
}

static void not_bound(void)
{
	struct nmport_d *a = mt_open("netmap:%s{5", base), *d;
	struct unm_mon_stats st;
	char name[96];

	/* the other end exists but nobody binds it */
	snprintf(name, sizeof(name), "netmap:%s}5/r", base);
	errno = 0;
	d = nmport_open(name);
	CHECK(d == NULL && errno == EINVAL, "%s: %p errno %d, want EINVAL", name, (void *)d, errno);
	/* no such pipe: EINVAL, and it is not created */
	snprintf(name, sizeof(name), "netmap:%s{9/t", base);
	errno = 0;
	d = nmport_open(name);
	CHECK(d == NULL && errno == EINVAL, "%s: %p errno %d, want EINVAL", name, (void *)d, errno);
	snprintf(name, sizeof(name), "%s{9", base);
	CHECK_EQ(mt_stats(a->fd, name, &st, 0, 0), ENOENT);
	nmport_close(a);
}

int main(void)
{
	snprintf(base, sizeof(base), "mp%dx", (int)getpid());
	copy_monitors();
	zero_copy();
	full_monitor();
	listing_and_orphans();
	not_bound();
	return t_done("35_monitor_pipe");
}
