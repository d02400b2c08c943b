/*
 * unm_vale.h - unetmap's own extension to netmap's control API: per-port
 * counters of VALE switch ports, which netmap never had.
 *
 * It is an ordinary NIOCCTRL request, so a tool reaches it the way it
 * reaches every other VALE request (vale-ctl -s):
 *
 *	struct nmreq_header hdr = { .nr_version = NETMAP_API,
 *				    .nr_reqtype = UNM_REQ_VALE_STATS };
 *	struct unm_vale_stats st;
 *	strcpy(hdr.nr_name, "vale0:a");    or a persistent port, "v0"
 *	hdr.nr_body = (uintptr_t)&st;
 *	ioctl(fd, NIOCCTRL, &hdr);
 *
 * Errors: ENXIO no such VALE port; EINVAL the name is not a VALE port
 * name.  The request type sits far above netmap's own numbers (1..15), so
 * a future netmap request cannot collide with it.
 *
 * Counters start at zero when the port is created and only grow.  They
 * are sampled without stopping the switch: two fields read in one
 * request may be a few packets apart.
 */
#ifndef UNM_VALE_H
#define UNM_VALE_H

#include <stdint.h>

#define UNM_REQ_VALE_STATS	0x7e01

struct unm_vale_stats {
	uint64_t rx_pkts;	/* frames delivered into this port's RX rings */
	uint64_t rx_bytes;	/* their bytes (all fragments) */
	uint64_t rx_drops;	/* frames for this port that were dropped:
				 * RX ring full or not bound by anyone, or a
				 * released slot holding a bad buffer index */
	uint64_t tx_pkts;	/* frames taken from this port's TX rings and
				 * forwarded (to one or more ports) */
	uint64_t tx_bytes;
	uint64_t tx_drops;	/* frames taken from the TX rings and dropped
				 * at once: shorter than 14 bytes, more than
				 * NETMAP_MAX_FRAGS fragments, NS_INDIRECT,
				 * learned destination == source, the port
				 * is attached to no switch, or the switch's
				 * module dropped it (NM_BDG_NOPORT or an
				 * invalid verdict) */
	uint64_t errors;	/* impossible values the port's own process
				 * wrote in shared memory (indices, buffer
				 * numbers), ignored by the switch */
	uint16_t bridge_idx;	/* as NETMAP_REQ_VALE_LIST reports them; */
	uint16_t pad;		/*  NM_BDG_NOPORT when attached to no switch */
	uint32_t port_idx;
};

_Static_assert(sizeof(struct unm_vale_stats) == 64, "unm_vale_stats is 64 bytes");

/*
 * UNM_REQ_PORT_SEAL - seal the memory region of port nr_name for a less
 * trusted holder (a guest it is passed through to, a container it is
 * granted to): from then on no other port may join that region -- no pipe
 * on the port's name, no NR_REG_NULL or @MEMID with its id -- so the
 * holder never shares memory with a port it was not given.  The port
 * itself opens as before.  A region cannot be unsealed; it goes away with
 * its last port.
 *
 * Errors: ENXIO no such port (it must be open or persistent); EBUSY the
 * region is already shared by other ports; EPERM sealed for another
 * holder.  Sealing again for the same holder succeeds.
 */
#define UNM_REQ_PORT_SEAL	0x7e02

struct unm_port_seal {
	char holder[48];	/* who gets the port, for messages ("vm1") */
	uint16_t mem_id;	/* out: the sealed region */
	uint16_t pad[3];
};

/*
 * UNM_REQ_GRANT / UNM_REQ_REVOKE - give a less trusted party (a container)
 * a netmapd socket of its own (docs/containers.md).  netmapd listens on
 * `path` (its directory must exist), owned by uid:gid with `mode`; a
 * process connecting there may open only ports whose names start with
 * `prefix` (pipes of them included), never NR_REG_NULL, another region by
 * id, an interface (unless UNM_GRANT_NIC) nor any VALE administration,
 * and every region it binds is sealed for `holder` (UNM_REQ_PORT_SEAL), so
 * it shares memory with nothing it was not given.  Only a client of the
 * main socket may grant; nr_name is unused.  REVOKE (same body, path
 * only) closes the socket and disconnects its clients.
 *
 * Errors: EEXIST a grant on that path; EINVAL bad fields; EPERM asked
 * through a grant's socket; ENOENT (REVOKE) no such grant; errno of
 * bind/chown/chmod.
 */
#define UNM_REQ_GRANT		0x7e03
#define UNM_REQ_REVOKE		0x7e04

#define UNM_GRANT_NIC		0x1u	/* may open interfaces of its own
					 * network namespace */

struct unm_grant {
	char path[108];		/* the socket to create */
	char holder[48];	/* who gets it, for messages and seals */
	char prefix[64];	/* the port names it may open start with this */
	uint32_t uid, gid;	/* owner of the socket file */
	uint32_t mode;		/* its permissions (0: 0660) */
	uint32_t flags;		/* UNM_GRANT_* */
	uint32_t pad;
};

_Static_assert(sizeof(struct unm_grant) % 8 == 0, "request bodies are 8-byte multiples");

/*
 * UNM_REQ_VALE_VHOST - VM ports: a switch port whose frames are those of a
 * QEMU guest's virtio-net NIC, served over a vhost-user socket by netmapd
 * (vale-ctl -n valeX:vm1 --vhost-user PATH; docs/vhost-user.md).  nr_name
 * is the port's full name, "valeX:Y".
 *
 *  op UNM_VHOST_CREATE: create the port in its switch and serve `path`:
 *	listening there (QEMU connects: -chardev socket,path=PATH), or with
 *	UNM_VHOST_CLIENT connecting to QEMU's socket and reconnecting
 *	whenever it goes.  features: the virtio features to offer, within
 *	what netmapd can (0: all of them); the offer is written back.  The
 *	port stays until VALE_DELIF of its name (vale-ctl -r), whatever the
 *	guest or QEMU do; it cannot be opened by applications.
 *  op UNM_VHOST_INFO: describe an existing VM port (every field out).
 *
 * Errors: EINVAL bad name, op, flags, path or features; EEXIST the port
 * exists; EADDRINUSE a live server owns path; ENXIO (INFO) no such VM
 * port; EOPNOTSUPP netmapd runs without an event loop; ENOMEM; the errno
 * of socket/bind/listen.
 */
#define UNM_REQ_VALE_VHOST	0x7e20

#define UNM_VHOST_CREATE	1
#define UNM_VHOST_INFO		2

#define UNM_VHOST_CLIENT	0x1u	/* flags: connect to QEMU's socket */

/* state bits (INFO) */
#define UNM_VHOST_CONNECTED	0x1u	/* a QEMU is connected */
#define UNM_VHOST_RUNNING	0x2u	/* both queues started and enabled:
					 * frames flow */
#define UNM_VHOST_BROKEN	0x4u	/* the guest broke a queue; stopped
					 * until it resets the device */

struct unm_vale_vhost {
	uint32_t op;		/* UNM_VHOST_CREATE or UNM_VHOST_INFO */
	uint32_t flags;		/* UNM_VHOST_CLIENT (INFO: as created) */
	char path[108];		/* the socket (INFO: out) */
	uint32_t state;		/* out: UNM_VHOST_* state bits */
	uint64_t features;	/* CREATE in/out, INFO out: offered */
	uint64_t negotiated;	/* out: features the guest acked */
	uint64_t connections;	/* out: QEMU connections served so far */
	uint64_t breaks;	/* out: times the guest broke the device */
	uint64_t bad_msgs;	/* out: connections closed for bad messages */
	uint16_t mtu;		/* out: MTU QEMU announced (host_mtu), 0 */
	uint16_t pad[3];
};

_Static_assert(sizeof(struct unm_vale_vhost) % 8 == 0, "request bodies are 8-byte multiples");

/*
 * UNM_REQ_VALE_MODULE - the forwarding logic of switch nr_name ("vale0",
 * or any "vale0:port"): load a module into it, go back to the built-in
 * learning bridge, or ask what runs and its verdict counters
 * (docs/vale-modules.md, vale-ctl --module).
 *
 *  cmd UNM_VALE_MOD_INFO	fills the outputs
 *  cmd UNM_VALE_MOD_LOAD	path (absolute) and args in; the switch is
 *				created if it does not exist, and lives while
 *				the module is loaded or it has ports.  The
 *				module replaces the one running, between two
 *				batches of every forwarding thread
 *  cmd UNM_VALE_MOD_UNLOAD	back to the built-in learning bridge, with
 *				an empty learning table (as netmap's regops
 *				with no ops); nothing to do is no error
 * Outputs (every command): name ("builtin" for the learning bridge),
 * path and args ("" for the built-in), abi (netmapd's), and the verdicts
 * of the logic that runs since it was installed: frames sent to one port,
 * broadcast, dropped (NM_BDG_NOPORT), and invalid verdicts (dropped too).
 *
 * Errors: EINVAL bad switch name, relative path, unknown cmd, or a module
 * with no lookup function; ENXIO no such switch (INFO, UNLOAD); ENOENT no
 * such file; EPERM the file or a directory above it could have been
 * written by someone netmapd does not trust (netmapd as root: anyone but
 * root; otherwise anyone but its user and root); ENOEXEC not a loadable
 * shared object, or no symbol unm_vale_module; EPROTONOSUPPORT built for
 * another module ABI; ENOMEM too many switches; any error the module's
 * init returns.  The reason is in the reply text.  On every error the
 * switch keeps forwarding with the logic it had.
 */
#define UNM_REQ_VALE_MODULE	0x7e07

#define UNM_VALE_MOD_INFO	0
#define UNM_VALE_MOD_LOAD	1
#define UNM_VALE_MOD_UNLOAD	2

struct unm_vale_module_req {
	uint32_t cmd;
	uint32_t abi;		/* out: netmapd's UNM_VALE_MODULE_ABI */
	char path[1024];
	char args[512];
	char name[64];		/* out */
	uint64_t forwarded;	/* out: verdict counters */
	uint64_t broadcast;
	uint64_t dropped;
	uint64_t invalid;
};

_Static_assert(sizeof(struct unm_vale_module_req) == 1640, "unm_vale_module_req is 1640 bytes");

#endif /* UNM_VALE_H */
