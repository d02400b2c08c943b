/*
 * Test objective: monitors of VALE ports, with exact counts.  The switch
 * copies RX frames into copy monitors as it delivers them, so a /r
 * monitor sees them before (and even if) the port reads; TX frames are
 * mirrored by the sender's txsync (NS_TXMON); a /z monitor gets TX
 * buffers once the switch gave the slots back and RX buffers once the
 * port released them; a full monitor keeps the newest of a delivery; the
 * port's last descriptor orphans its monitors; a monitor of a port nobody
 * binds is EINVAL and creates nothing.  The switched traffic arrives
 * complete all along.
 *
 * Operations (switch vm<pid>, ports a and b):
 *  1. monitors a/t, a/r, a/z, b/r; a sends 100 broadcast frames: b/r has
 *     all 100 before b reads; b gets 100; a/t 100 with NS_TXMON; once a's
 *     ring is empty again a/z has 100 with NS_TXMON;
 *  2. b sends 50: a/r has them before a reads, a/z not until a released
 *     them, then 50;
 *  3. b/r not read: a sends 1000 (b takes them), then 100: b/r holds 1000
 *     and the newest 23, counters 1023 mirrored, 77 dropped;
 *  4. a/t of a port that nobody binds: EINVAL, and the port does not
 *     exist afterwards (UNM_REQ_VALE_STATS: ENXIO);
 *  5. a closes: a's monitors report POLLERR;
 *  6. a persistent port p<pid> attached to the switch: netmap:p<pid>/r
 *     sees what is delivered to it (netmap's tests 013, 016).
 */
#include "mon_util.h"
#include "unm_vale.h"

static char sw[24];
static struct mrec rec[MT_MAX];

/* Sync until the switch gave every slot back: what a sent is then in the
 * receivers' rings (and /z monitors got the buffers). */
static void flush_tx(struct nmport_d *d)
{
	struct netmap_ring *r = NETMAP_TXRING(d->nifp, 0);
	double t0 = t_now();

	do {
		ioctl(d->fd, NIOCTXSYNC, NULL);
		if (!nm_tx_pending(r))
			return;
		usleep(200);
	} while (t_now() - t0 < 10);
	CHECK(0, "the switch did not take %s's frames within 10 s", d->hdr.nr_name);
}

static void traffic(void)
{
	struct nmport_d *a = mt_open("%s:a", sw), *b = mt_open("%s:b", sw);
	struct nmport_d *at = mt_open("%s:a/t", sw), *ar = mt_open("%s:a/r", sw);
	struct nmport_d *az = mt_open("%s:a/z", sw), *br = mt_open("%s:b/r", sw);
	unsigned n;

	CHECK_EQ(az->reg.nr_mem_id, a->reg.nr_mem_id);
	CHECK_EQ(mt_send(a, 0, 'A', 0, 100, 60), 100);
	flush_tx(a);
	/* the switch mirrored them on delivery: b has not read yet */
	n = mt_take(br, rec, MT_MAX);
	CHECK_EQ(n, 100);
	CHECK_EQ(mt_expect("b/r", rec, n, 'A', 0, 60, false), 0);
	mt_release(br);
	n = mt_take(b, rec, MT_MAX);
	CHECK_EQ(n, 100);
	CHECK_EQ(mt_expect("b from a", rec, n, 'A', 0, 60, false), 0);
	mt_release(b);
	n = mt_take(at, rec, MT_MAX);
	CHECK_EQ(n, 100);
	CHECK_EQ(mt_expect("a/t", rec, n, 'A', 0, 60, true), 0);
	mt_release(at);
	n = mt_take(az, rec, MT_MAX);
	CHECK_EQ(n, 100);
	CHECK_EQ(mt_expect("a/z tx", rec, n, 'A', 0, 60, true), 0);
	mt_release(az);
	CHECK_EQ(mt_pending(ar), 0);

	CHECK_EQ(mt_send(b, 0, 'B', 0, 50, 90), 50);
	flush_tx(b);
	n = mt_take(ar, rec, MT_MAX);
	CHECK_EQ(n, 50);
	CHECK_EQ(mt_expect("a/r", rec, n, 'B', 0, 90, false), 0);
	mt_release(ar);
	CHECK_EQ(mt_pending(az), 0);	/* a has not released them */
	n = mt_take(a, rec, MT_MAX);
	CHECK_EQ(n, 50);
	CHECK_EQ(mt_expect("a from b", rec, n, 'B', 0, 90, false), 0);
	CHECK_EQ(mt_pending(az), 0);
	mt_release(a);
	n = mt_take(az, rec, MT_MAX);
	CHECK_EQ(n, 50);
	CHECK_EQ(mt_expect("a/z rx", rec, n, 'B', 0, 90, false), 0);
	mt_release(az);
	/* each saw its frames once */
	CHECK_EQ(mt_pending(at) + mt_pending(ar) + mt_pending(az) + mt_pending(br), 0);

	nmport_close(br);
	nmport_close(az);
	nmport_close(ar);
	nmport_close(at);
	nmport_close(b);
	nmport_close(a);
}

static void full(void)
{
	struct nmport_d *a = mt_open("%s:c", sw), *b = mt_open("%s:d", sw);
	struct nmport_d *m = mt_open("%s:d/r", sw);
	struct unm_mon_stats st;
	unsigned n;

	CHECK_EQ(mt_send(a, 0, 'A', 0, 1000, 60), 1000);
	flush_tx(a);
	CHECK_EQ(mt_take(b, rec, MT_MAX), 1000);
	mt_release(b);
	CHECK_EQ(mt_send(a, 0, 'A', 1000, 100, 60), 100);
	flush_tx(a);
	n = mt_take(b, rec, MT_MAX);
	CHECK_EQ(n, 100);
	CHECK_EQ(mt_expect("d second batch", rec, n, 'A', 1000, 60, false), 0);
	mt_release(b);
	n = mt_take(m, rec, MT_MAX);
	CHECK_EQ(n, 1023);
	CHECK_EQ(mt_expect("full, first", rec, 1000, 'A', 0, 60, false), 0);
	CHECK_EQ(mt_expect("full, newest", rec + 1000, 23, 'A', 1077, 60, false), 0);
	CHECK_EQ(mt_stats(m->fd, NULL, &st, UNM_MON_SELF, 0), 0);
	CHECK_EQ(st.pkts, 1023);
	CHECK_EQ(st.drops, 77);
	CHECK_EQ(st.busy, 0);
	mt_release(m);
	nmport_close(m);
	nmport_close(b);
	nmport_close(a);
}

static void unbound_and_orphan(void)
{
	struct nmport_d *a = mt_open("%s:e", sw), *m1 = mt_open("%s:e/rt", sw);
	struct nmport_d *m2 = mt_open("%s:e/z", sw), *d;
	struct unm_vale_stats vs;
	struct nmreq_header h;
	char name[64];
	short ev;

	snprintf(name, sizeof(name), "%s:nobody/t", sw);
	errno = 0;
	d = nmport_open(name);
	CHECK(d == NULL && errno == EINVAL, "%s: %p errno %d, want EINVAL", name, (void *)d, errno);
	memset(&h, 0, sizeof(h));
	h.nr_version = NETMAP_API;
	h.nr_reqtype = UNM_REQ_VALE_STATS;
	h.nr_body = (uintptr_t)&vs;
	snprintf(h.nr_name, sizeof(h.nr_name), "%s:nobody", sw);
	errno = 0;
	CHECK(ioctl(a->fd, NIOCCTRL, &h) < 0 && errno == ENXIO,
	      "%s exists after a monitor request (errno %d)", h.nr_name, errno);

	CHECK_EQ(mt_poll(m1, 0) & POLLERR, 0);
	nmport_close(a);
	ev = mt_poll(m1, 1000);
	CHECK(ev > 0 && (ev & POLLERR), "orphaned /rt: revents 0x%x, want POLLERR", ev);
	ev = mt_poll(m2, 1000);
	CHECK(ev > 0 && (ev & POLLERR), "orphaned /z: revents 0x%x, want POLLERR", ev);
	nmport_close(m2);
	nmport_close(m1);
}

static int vale_req(int fd, uint16_t type, const char *name, void *body)
{
	struct nmreq_header h;

	memset(&h, 0, sizeof(h));
	h.nr_version = NETMAP_API;
	h.nr_reqtype = type;
	h.nr_body = (uintptr_t)body;
	snprintf(h.nr_name, sizeof(h.nr_name), "%s", name);
	return ioctl(fd, NIOCCTRL, &h) < 0 ? errno : 0;
}

static void persistent(void)
{
	struct nmreq_vale_newif nf;
	struct nmreq_vale_attach at;
	struct nmreq_vale_detach dt;
	struct nmport_d *ctl = mt_open("%s:ctl", sw), *p, *m, *d;
	char pname[24], full[48];
	unsigned n;

	snprintf(pname, sizeof(pname), "mv%d", (int)getpid() % 100000);
	snprintf(full, sizeof(full), "%s:%s", sw, pname);
	memset(&nf, 0, sizeof(nf));
	CHECK_EQ(vale_req(ctl->fd, NETMAP_REQ_VALE_NEWIF, pname, &nf), 0);
	memset(&at, 0, sizeof(at));
	at.reg.nr_mode = NR_REG_ALL_NIC;
	CHECK_EQ(vale_req(ctl->fd, NETMAP_REQ_VALE_ATTACH, full, &at), 0);
	p = mt_open("netmap:%s", pname);
	m = mt_open("netmap:%s/r", pname);
	CHECK_EQ(mt_send(ctl, 0, 'C', 0, 30, 60), 30);
	flush_tx(ctl);
	n = mt_take(m, rec, MT_MAX);
	CHECK_EQ(n, 30);
	CHECK_EQ(mt_expect("persistent/r", rec, n, 'C', 0, 60, false), 0);
	mt_release(m);
	n = mt_take(p, rec, MT_MAX);
	CHECK_EQ(n, 30);
	mt_release(p);
	nmport_close(m);
	nmport_close(p);
	/* the port is bound nowhere once netmapd saw p go: then EINVAL */
	for (n = 0; n < 1000; n++) {
		char name[64];

		snprintf(name, sizeof(name), "netmap:%s/r", pname);
		d = nmport_open(name);
		if (!d)
			break;
		nmport_close(d);
		usleep(1000);
	}
	CHECK(n < 1000 && errno == EINVAL, "a monitor of an unbound persistent port: errno %d", errno);
	memset(&dt, 0, sizeof(dt));
	CHECK_EQ(vale_req(ctl->fd, NETMAP_REQ_VALE_DETACH, full, &dt), 0);
	CHECK_EQ(vale_req(ctl->fd, NETMAP_REQ_VALE_DELIF, pname, NULL), 0);
	nmport_close(ctl);
}

int main(void)
{
	snprintf(sw, sizeof(sw), "vale%d", (int)getpid() % 100000);
	traffic();
	full();
	unbound_and_orphan();
	persistent();
	return t_done("35_monitor_vale");
}
