/*
 * dev_ctrl.c - control requests on a port descriptor: NIOCCTRL, and the
 * legacy NIOCREGIF / NIOCGINFO converted to it, as the kernel does.
 *
 * This file is the kernel's copyin/copyout: it follows the application's
 * option pointers, enforces netmap's size limits (EMSGSIZE) and duplicate
 * rule (EINVAL), flattens the request for netmapd, and writes the answer
 * back.  Application memory is read and written with process_vm_readv/
 * writev, so a bad pointer is EFAULT, as from the kernel, not a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"
#include "unm_nmreq.h"

/* the kernel's scratch buffer and body+options budget (netmap-facts §2.5) */
#define KSCRATCH   4208u
#define REQ_MAX    4096u

static int user_copy(void *dst, const void *src, size_t len, bool to_user)
{
	struct iovec local = { .iov_base = to_user ? (void *)(uintptr_t)src : dst, .iov_len = len };
	struct iovec remote = { .iov_base = to_user ? dst : (void *)(uintptr_t)src, .iov_len = len };
	ssize_t n;

	if (len == 0)
		return 0;
	n = to_user ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0)
		    : process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && errno != EFAULT) {
		/* process_vm_* unavailable (seccomp): trust the pointer, as a
		 * library call would */
		memcpy(dst, src, len);
		return 0;
	}
	return -EFAULT;
}

struct flat {
	char *buf;
	uint32_t len;
	struct nmreq_option *uopt[UNM_WIRE_MAXOPTS];	/* user addresses */
	uint32_t opt_off[UNM_WIRE_MAXOPTS];		/* header offsets in buf */
	unsigned nopts;
};

static void write_back_status(struct flat *f, unsigned upto)
{
	unsigned i;

	for (i = 0; i < upto; i++) {
		struct nmreq_option *o = (struct nmreq_option *)(f->buf + f->opt_off[i]);

		user_copy(&f->uopt[i]->nro_status, &o->nro_status, sizeof(o->nro_status), true);
	}
}

/* Follow the option list the way netmap's copyin does.  On error the
 * statuses gathered so far are written back. */
static int copyin_options(struct flat *f, const struct nmreq_header *hdr, int bsz)
{
	struct unm_msg_nmreq *m = (struct unm_msg_nmreq *)f->buf;
	uint64_t uptr = hdr->nr_options, scratch = 16 + (uint64_t)bsz + 48, total = (uint64_t)bsz;
	int seen[NETMAP_REQ_OPT_MAX];
	unsigned i;

	for (i = 0; i < NETMAP_REQ_OPT_MAX; i++)
		seen[i] = -1;
	while (uptr) {
		struct nmreq_option oh, *o;
		uint64_t osz;

		if (scratch + 8 + sizeof(oh) > KSCRATCH || f->nopts >= UNM_WIRE_MAXOPTS)
			goto emsgsize;
		if (user_copy(&oh, (void *)(uintptr_t)uptr, sizeof(oh), false)) {
			write_back_status(f, f->nopts);
			return -EFAULT;
		}
		if (oh.nro_reqtype == 0) {
			write_back_status(f, f->nopts);
			return -EINVAL;
		}
		if (oh.nro_size > REQ_MAX)
			goto emsgsize;
		osz = unm_nmreq_opt_body_size(oh.nro_reqtype, oh.nro_size);
		if (osz > REQ_MAX || scratch + 8 + sizeof(oh) + osz > KSCRATCH)
			goto emsgsize;
		scratch += 8 + sizeof(oh) + osz;
		total += sizeof(oh) + osz;
		if (total > REQ_MAX || f->len + sizeof(oh) + osz > UNM_WIRE_MAX - 64)
			goto emsgsize;
		i = f->nopts++;
		f->uopt[i] = (struct nmreq_option *)(uintptr_t)uptr;
		f->opt_off[i] = f->len;
		o = (struct nmreq_option *)(f->buf + f->len);
		*o = oh;
		o->nro_next = 0;
		o->nro_status = EOPNOTSUPP;
		f->len += sizeof(oh);
		if (user_copy(f->buf + f->len, (char *)(uintptr_t)uptr + sizeof(oh), osz, false)) {
			write_back_status(f, f->nopts);
			return -EFAULT;
		}
		f->len += (uint32_t)osz;
		m->opt_body_len[i] = (uint32_t)osz;
		if (oh.nro_reqtype < NETMAP_REQ_OPT_MAX) {
			int prev = seen[oh.nro_reqtype];

			if (prev >= 0) {
				struct nmreq_option *po = (struct nmreq_option *)(f->buf + f->opt_off[prev]);

				po->nro_status = EINVAL;
				o->nro_status = EINVAL;
				write_back_status(f, f->nopts);
				return -EINVAL;
			}
			seen[oh.nro_reqtype] = (int)i;
		}
		uptr = oh.nro_next;
	}
	m->nopts = f->nopts;
	return 0;
emsgsize:
	write_back_status(f, f->nopts);
	return -EMSGSIZE;
}

int unm_dev_nmreq(struct unm_port *p, struct nmreq_header *uhdr)
{
	struct nmreq_header hdr;
	struct flat f;
	struct unm_msg_nmreq *m, *rm;
	char *reply = NULL;
	uint32_t rlen = UNM_WIRE_MAX, off;
	int fds[UNM_WIRE_MAXFDS];
	unsigned nfds = UNM_WIRE_MAXFDS, i;
	int bsz, err;

	unm_reason_clear();
	if (user_copy(&hdr, uhdr, sizeof(hdr), false))
		return -EFAULT;
	if (hdr.nr_version < NETMAP_MIN_API || hdr.nr_version > NETMAP_MAX_API ||
	    hdr.nr_reserved)
		return -EINVAL;
	bsz = unm_nmreq_body_size(hdr.nr_reqtype);
	if (bsz < 0 || (bsz > 0 && !hdr.nr_body) || (bsz == 0 && hdr.nr_body))
		return -EINVAL;
	hdr.nr_name[sizeof(hdr.nr_name) - 1] = '\0';
	if (hdr.nr_reqtype == NETMAP_REQ_REGISTER && p->bound)
		return -EBUSY;

	memset(&f, 0, sizeof(f));
	f.buf = calloc(1, UNM_WIRE_MAX);
	reply = malloc(UNM_WIRE_MAX);
	if (!f.buf || !reply) {
		err = -ENOMEM;
		goto out;
	}
	m = (struct unm_msg_nmreq *)f.buf;
	m->hdr = hdr;
	m->hdr.nr_options = 0;
	m->hdr.nr_body = 0;
	m->body_len = (uint32_t)bsz;
	f.len = sizeof(*m);
	if (user_copy(f.buf + f.len, (void *)(uintptr_t)hdr.nr_body, (size_t)bsz, false)) {
		err = -EFAULT;
		goto out;
	}
	f.len += (uint32_t)bsz;
	err = copyin_options(&f, &hdr, bsz);
	if (err)
		goto out;

	err = unm_ctl_call(p, UNM_MSG_NMREQ, f.buf, f.len, reply, &rlen, fds, &nfds);
	if (rlen < f.len) {
		/* no usable reply: the daemon went away, or spoke nonsense */
		for (i = 0; i < nfds; i++)
			unm_libc.close(fds[i]);
		err = err ? err : -EPROTO;
		goto out;
	}
	rm = (struct unm_msg_nmreq *)reply;
	/* copyout: statuses always, the rest only on success */
	for (i = 0; i < f.nopts; i++) {
		struct nmreq_option *ro = (struct nmreq_option *)(reply + f.opt_off[i]);

		user_copy(&f.uopt[i]->nro_status, &ro->nro_status, sizeof(ro->nro_status), true);
	}
	if (err == 0 && hdr.nr_reqtype == NETMAP_REQ_REGISTER) {
		off = f.len;
		err = unm_dev_bind(p, (const struct unm_bind_info *)(reply + off), rlen - off,
				   fds, nfds);
		nfds = 0;	/* bind took or closed them */
		if (err) {
			unm_ctl_call(p, UNM_MSG_UNBIND, NULL, 0, NULL, NULL, NULL, NULL);
			goto out;
		}
		p->nr_flags = ((const struct nmreq_register *)(f.buf + sizeof(*m)))->nr_flags;
	}
	for (i = 0; i < nfds; i++)
		unm_libc.close(fds[i]);
	if (err)
		goto out;
	if (user_copy((void *)(uintptr_t)hdr.nr_body, reply + sizeof(*rm), (size_t)bsz, true) ||
	    user_copy(uhdr->nr_name, rm->hdr.nr_name, sizeof(uhdr->nr_name), true)) {
		err = -EFAULT;
		goto out;
	}
	for (i = 0; i < f.nopts; i++) {
		struct nmreq_option *ro = (struct nmreq_option *)(reply + f.opt_off[i]);

		if (ro->nro_status == 0)
			user_copy((char *)f.uopt[i] + sizeof(*ro), (char *)ro + sizeof(*ro),
				  m->opt_body_len[i], true);
	}
out:
	free(f.buf);
	free(reply);
	return err;
}

/* ---- legacy API (struct nmreq), converted as netmap-facts §2.7 says ---- */

static void legacy_name(struct nmreq_header *h, const struct nmreq *req)
{
	memset(h->nr_name, 0, sizeof(h->nr_name));
	memcpy(h->nr_name, req->nr_name, strnlen(req->nr_name, sizeof(req->nr_name)));
}

static int legacy_regif(struct unm_port *p, struct nmreq *req)
{
	struct nmreq_header h;
	struct nmreq_register reg;
	uint32_t mode = req->nr_flags & NR_REG_MASK;
	uint16_t ringid = req->nr_ringid & NETMAP_RING_MASK;
	int err;

	memset(&h, 0, sizeof(h));
	memset(&reg, 0, sizeof(reg));
	h.nr_version = NETMAP_API;
	h.nr_reqtype = NETMAP_REQ_REGISTER;
	h.nr_body = (uintptr_t)&reg;
	legacy_name(&h, req);
	if (mode == NR_REG_DEFAULT) {
		if (req->nr_ringid & NETMAP_SW_RING)
			mode = NR_REG_SW;
		else if (req->nr_ringid & NETMAP_HW_RING)
			mode = NR_REG_ONE_NIC;
		else
			mode = NR_REG_ALL_NIC;
	}
	if (mode == NR_REG_PIPE_MASTER || mode == NR_REG_PIPE_SLAVE) {
		size_t l = strlen(h.nr_name);
		int n = snprintf(h.nr_name + l, sizeof(h.nr_name) - l, "%c%u",
				 mode == NR_REG_PIPE_MASTER ? '{' : '}', ringid);

		if (n < 0 || (size_t)n >= sizeof(h.nr_name) - l)
			return -ENOMEM;
		mode = NR_REG_ALL_NIC;
		ringid = 0;
	}
	reg.nr_mode = mode;
	reg.nr_ringid = ringid;
	reg.nr_mem_id = req->nr_arg2;
	reg.nr_extra_bufs = req->nr_arg3;
	reg.nr_tx_slots = req->nr_tx_slots;
	reg.nr_rx_slots = req->nr_rx_slots;
	reg.nr_tx_rings = req->nr_tx_rings;
	reg.nr_rx_rings = req->nr_rx_rings;
	reg.nr_flags = req->nr_flags & ~(uint64_t)NR_REG_MASK;
	if (req->nr_ringid & NETMAP_NO_TX_POLL)
		reg.nr_flags |= NR_NO_TX_POLL;
	if (req->nr_ringid & NETMAP_DO_RX_POLL)
		reg.nr_flags |= NR_DO_RX_POLL;
	err = unm_dev_nmreq(p, &h);
	if (err)
		return err;
	req->nr_offset = (uint32_t)reg.nr_offset;
	req->nr_memsize = (uint32_t)reg.nr_memsize;
	req->nr_tx_slots = reg.nr_tx_slots;
	req->nr_rx_slots = reg.nr_rx_slots;
	req->nr_tx_rings = reg.nr_tx_rings;
	req->nr_rx_rings = reg.nr_rx_rings;
	req->nr_arg2 = reg.nr_mem_id;
	req->nr_arg3 = reg.nr_extra_bufs;
	return 0;
}

static int legacy_simple(struct unm_port *p, struct nmreq *req, uint16_t type, void *body)
{
	struct nmreq_header h;

	memset(&h, 0, sizeof(h));
	h.nr_version = NETMAP_API;
	h.nr_reqtype = type;
	h.nr_body = (uintptr_t)body;
	legacy_name(&h, req);
	return unm_dev_nmreq(p, &h);
}

static int legacy_cmd(struct unm_port *p, unsigned long cmd, struct nmreq *ureq)
{
	struct nmreq req;
	int err;

	if (user_copy(&req, ureq, sizeof(req), false))
		return -EFAULT;
	if (req.nr_version < NETMAP_API)
		return -EINVAL;
	if (cmd == NIOCGINFO) {
		if (req.nr_cmd == NETMAP_BDG_LIST) {
			struct nmreq_vale_list l = { .nr_bridge_idx = req.nr_arg1,
						     .nr_port_idx = req.nr_arg2 };
			struct nmreq_header h;

			memset(&h, 0, sizeof(h));
			h.nr_version = NETMAP_API;
			h.nr_reqtype = NETMAP_REQ_VALE_LIST;
			h.nr_body = (uintptr_t)&l;
			legacy_name(&h, &req);
			err = unm_dev_nmreq(p, &h);
			if (!err) {
				memset(req.nr_name, 0, sizeof(req.nr_name));
				memcpy(req.nr_name, h.nr_name, strnlen(h.nr_name, sizeof(req.nr_name) - 1));
				req.nr_arg1 = l.nr_bridge_idx;
				req.nr_arg2 = (uint16_t)l.nr_port_idx;
			}
		} else {
			struct nmreq_port_info_get pi = { .nr_mem_id = req.nr_arg2 };

			err = legacy_simple(p, &req, NETMAP_REQ_PORT_INFO_GET, &pi);
			if (!err) {
				req.nr_memsize = (uint32_t)pi.nr_memsize;
				req.nr_tx_slots = pi.nr_tx_slots;
				req.nr_rx_slots = pi.nr_rx_slots;
				req.nr_tx_rings = pi.nr_tx_rings;
				req.nr_rx_rings = pi.nr_rx_rings;
				req.nr_arg2 = pi.nr_mem_id;
			}
		}
	} else {
		switch (req.nr_cmd) {
		case 0:
			err = legacy_regif(p, &req);
			break;
		case NETMAP_BDG_ATTACH: {
			struct nmreq_vale_attach a;

			memset(&a, 0, sizeof(a));
			a.reg.nr_mode = (req.nr_arg1 & NETMAP_BDG_HOST) ? NR_REG_NIC_SW : NR_REG_ALL_NIC;
			a.reg.nr_mem_id = req.nr_arg2;
			err = legacy_simple(p, &req, NETMAP_REQ_VALE_ATTACH, &a);
			break;
		}
		case NETMAP_BDG_DETACH: {
			struct nmreq_vale_detach d;

			memset(&d, 0, sizeof(d));
			err = legacy_simple(p, &req, NETMAP_REQ_VALE_DETACH, &d);
			break;
		}
		case NETMAP_BDG_VNET_HDR: {
			struct nmreq_port_hdr ph = { .nr_hdr_len = req.nr_arg1 };

			err = legacy_simple(p, &req, NETMAP_REQ_PORT_HDR_SET, &ph);
			break;
		}
		case NETMAP_VNET_HDR_GET: {
			struct nmreq_port_hdr ph = { .nr_hdr_len = 0 };

			err = legacy_simple(p, &req, NETMAP_REQ_PORT_HDR_GET, &ph);
			if (!err)
				req.nr_arg1 = (uint16_t)ph.nr_hdr_len;
			break;
		}
		case NETMAP_BDG_NEWIF: {
			struct nmreq_vale_newif n = {
				.nr_tx_slots = req.nr_tx_slots, .nr_rx_slots = req.nr_rx_slots,
				.nr_tx_rings = req.nr_tx_rings, .nr_rx_rings = req.nr_rx_rings,
				.nr_mem_id = req.nr_arg2,
			};

			err = legacy_simple(p, &req, NETMAP_REQ_VALE_NEWIF, &n);
			if (!err) {
				req.nr_tx_slots = n.nr_tx_slots;
				req.nr_rx_slots = n.nr_rx_slots;
				req.nr_tx_rings = n.nr_tx_rings;
				req.nr_rx_rings = n.nr_rx_rings;
				req.nr_arg2 = n.nr_mem_id;
			}
			break;
		}
		case NETMAP_BDG_DELIF:
			err = legacy_simple(p, &req, NETMAP_REQ_VALE_DELIF, NULL);
			break;
		case NETMAP_BDG_POLLING_ON:
		case NETMAP_BDG_POLLING_OFF: {
			struct nmreq_vale_polling pl;
			uint32_t mode = req.nr_flags & NR_REG_MASK;

			memset(&pl, 0, sizeof(pl));
			if (mode == NR_REG_ONE_NIC)
				pl.nr_mode = NETMAP_POLLING_MODE_MULTI_CPU;
			else if (mode == NR_REG_ALL_NIC)
				pl.nr_mode = NETMAP_POLLING_MODE_SINGLE_CPU;
			pl.nr_first_cpu_id = req.nr_ringid & NETMAP_RING_MASK;
			pl.nr_num_polling_cpus = req.nr_arg1;
			err = legacy_simple(p, &req, req.nr_cmd == NETMAP_BDG_POLLING_ON ?
					    NETMAP_REQ_VALE_POLLING_ENABLE :
					    NETMAP_REQ_VALE_POLLING_DISABLE, &pl);
			break;
		}
		default:
			err = -EINVAL;
		}
	}
	if (err)
		return err;
	return user_copy(ureq, &req, sizeof(req), true);
}

int unm_dev_ioctl(struct unm_port *p, unsigned long cmd, void *arg)
{
	uint32_t i;

	switch (cmd) {
	case NIOCCTRL:
		return unm_dev_nmreq(p, arg);
	case NIOCREGIF:
	case NIOCGINFO:
		return legacy_cmd(p, cmd, arg);
	case NIOCTXSYNC:
	case NIOCRXSYNC:
		if (!p->bound)
			return -ENXIO;
		/* netmap ignores per-ring sync errors here (they show in poll) */
		if (cmd == NIOCTXSYNC) {
			for (i = 0; i < p->nrings[UNM_DIR_TX]; i++)
				unm_txsync(&p->ring[UNM_DIR_TX][i]);
		} else {
			for (i = 0; i < p->nrings[UNM_DIR_RX]; i++)
				unm_rxsync(&p->ring[UNM_DIR_RX][i]);
		}
		return 0;
	case NIOCCONFIG: {
		/* read-write, as netmap's: the switch's module may answer in
		 * the same struct */
		struct nm_ifreq ifr;
		char *reply = malloc(UNM_WIRE_MAX);
		uint32_t rlen = 0;
		int err;

		if (!reply)
			return -ENOMEM;
		if (user_copy(&ifr, arg, sizeof(ifr), false)) {
			free(reply);
			return -EFAULT;
		}
		err = unm_ctl_call(p, UNM_MSG_CONFIG, &ifr, sizeof(ifr), reply, &rlen, NULL, NULL);
		if (!err && rlen == sizeof(ifr) && user_copy(arg, reply, sizeof(ifr), true))
			err = -EFAULT;
		free(reply);
		return err;
	}
	default:
		return -EOPNOTSUPP;
	}
}
