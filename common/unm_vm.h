/*
 * unm_vm.h - passthrough of unetmap ports into QEMU guests: the control
 * requests that export a port (host side) and the descriptor netmapd
 * writes into an exported region for the guest to find.  Shared by the
 * host netmapd (daemon/vm/export.c), the guest netmapd
 * (daemon/vm/guest_port.c) and the tools (nm-vm).  Not a public header.
 *
 * The model (docs/passthrough.md): the memfd of a port's region is served
 * to QEMU's ivshmem-doorbell device, whose BAR2 it becomes in the guest.
 * Every region's memfd is a power of two with a tail past the region
 * (unm_region_file_size(), unm_layout.h); an export uses that tail:
 *
 *   [0, region_size)                 the region, as the host laid it out
 *   [guest_ofs, guest_ofs+guest_size) the guest's own area: the netmap_if
 *                                    objects of its bindings (the guest
 *                                    netmapd allocates there; the host
 *                                    never reads it)
 *   [file_size - UNM_VM_DESC_SIZE, file_size)
 *                                    struct unm_vm_desc, written by the host
 *                                    at export, read by the guest
 *
 * Kicks travel on the ivshmem vectors without any relay: vector v of the
 * guest (MSI-X, host to guest) *is* the eventfd the exported port's
 * binders sleep on, and the guest's doorbell for vector v of peer 0 (guest
 * to host) *is* the eventfd the host side sleeps on (the pipe peer's wake
 * eventfd, the VALE switch's kick).  Each side's sync code keeps its
 * event suppression; a kick it decides to send becomes an MSI-X message
 * or a doorbell write instead of an eventfd write in the other domain.
 *
 * Trust: the guest is less trusted than the host's user.  The host never
 * reads the descriptor back and validates what it reads from the rings as
 * it does for any client.  The guest reads the descriptor once, into a
 * private copy, and checks every offset, count and vector against the
 * BAR before use: everything the host writes is untrusted there too.
 */
#ifndef UNM_VM_H
#define UNM_VM_H

#include <stdatomic.h>
#include <stdint.h>
#include <stddef.h>

/* ---- control requests (NIOCCTRL, like UNM_REQ_VALE_STATS) ---- */

/*
 * UNM_REQ_VM_EXPORT - export ports to a QEMU guest.  netmapd opens (or
 * creates) the ports named in port[], which must all live in one memory
 * region (one pipe end; several pipe ends of one NAME, so that the guest
 * may swap buffers between them; or a VALE port), binds every ring of
 * them exclusively for the guest, seals the region for `holder`
 * (UNM_REQ_PORT_SEAL), writes the descriptor and listens on `sock` as an
 * ivshmem-doorbell server with `vectors` vectors (two per port).  The
 * export ends, and the ports are released like those of a dead client,
 * when the QEMU that connected goes away (exits, is killed) or on
 * UNM_REQ_VM_UNEXPORT.  One QEMU at a time.
 *
 * Errors: EINVAL (bad names, no ports or more than UNM_VM_MAX_PORTS, the
 * same port twice, ports in different regions, too few vectors, too
 * many rings for the descriptor); ENXIO (no such port); EOPNOTSUPP (a
 * kind that cannot be passed through: NICs, null ports, the global
 * region); EBUSY (a ring is bound by someone already, the region is
 * shared with other ports or exported already); EPERM (the region is
 * sealed for another holder); EADDRINUSE (a live server owns sock);
 * ENAMETOOLONG; ENOMEM.
 */
#define UNM_REQ_VM_EXPORT	0x7e30
#define UNM_REQ_VM_UNEXPORT	0x7e31	/* by sock, or by holder if sock is
					 * empty; ENOENT: no such export */
#define UNM_REQ_VM_LIST		0x7e32	/* the first export whose index is
					 * >= index; ENOENT: none */

#define UNM_VM_MAX_PORTS	16
#define UNM_VM_SOCK_LEN		108	/* sizeof(sun_path) */
#define UNM_VM_HOLDER_LEN	48	/* as struct unm_port_seal's holder */
#define UNM_VM_NAME_LEN		64	/* NETMAP_REQ_IFNAMSIZ */

struct unm_vm_export {
	char sock[UNM_VM_SOCK_LEN];	/* in: the socket QEMU connects to */
	uint32_t vectors;		/* in: 0 = 2 per port; out: used */
	char holder[UNM_VM_HOLDER_LEN];	/* in: who gets the ports ("vm1"); ""
					 * = "vm:" + the socket's file name;
					 * out: the name used */
	uint32_t mode;			/* in: socket file permissions; 0 = 0600 */
	uint32_t nports;		/* in: names in port[] */
	uint16_t mem_id;		/* out: the exported region */
	uint16_t pad[3];
	char port[UNM_VM_MAX_PORTS][UNM_VM_NAME_LEN];
};

struct unm_vm_unexport {
	char sock[UNM_VM_SOCK_LEN];
	uint32_t pad;
	char holder[UNM_VM_HOLDER_LEN];
};

/* export states (unm_vm_list.state) */
#define UNM_VM_WAITING		0	/* no QEMU has connected yet */
#define UNM_VM_CONNECTED	1	/* a QEMU holds the ports */

struct unm_vm_list {
	uint32_t index;			/* in: where to start; out: this one */
	uint32_t state;			/* out: UNM_VM_WAITING / CONNECTED */
	char sock[UNM_VM_SOCK_LEN];
	char holder[UNM_VM_HOLDER_LEN];
	uint16_t peer;			/* out: QEMU's ivshmem peer id, 0 */
	uint16_t mem_id;
	uint32_t nports;
	uint32_t vectors;
	uint32_t pad[2];
	char port[UNM_VM_MAX_PORTS][UNM_VM_NAME_LEN];
};

_Static_assert(sizeof(struct unm_vm_export) % 8 == 0, "request bodies are 8-byte multiples");
_Static_assert(sizeof(struct unm_vm_unexport) % 8 == 0, "request bodies are 8-byte multiples");
_Static_assert(sizeof(struct unm_vm_list) % 8 == 0, "request bodies are 8-byte multiples");

/* ---- the descriptor in an exported region ---- */

#define UNM_VM_MAGIC		0x4d564e55u	/* "UNVM" little-endian */
#define UNM_VM_VERSION		1u
#define UNM_VM_DESC_SIZE	(64u << 10)	/* at the end of the memfd */
#define UNM_VM_NO_VECTOR	0xffffu

/* desc->state (written by the host) */
#define UNM_VM_STATE_LIVE	1u	/* the ports are the guest's */
#define UNM_VM_STATE_REVOKED	2u	/* the export ended: the host no longer
					 * holds the ports for this guest */

struct unm_vm_ring {
	uint64_t ofs;		/* region offset of the struct netmap_ring
				 * (its control block is right before it) */
	uint64_t peer_ofs;	/* pipes: the linked ring of the peer end */
	uint32_t nslots;
	uint16_t ringid;
	uint8_t  dir;		/* UNM_DIR_TX or UNM_DIR_RX */
	uint8_t  pad;
};

struct unm_vm_port {
	char name[UNM_VM_NAME_LEN];	/* the host's name, NUL-terminated */
	uint32_t kind;		/* UNM_KIND_PIPE or UNM_KIND_HW (unm_wire.h) */
	uint32_t hdr_len;	/* virtio-net header length of its frames */
	uint32_t nrings[2];	/* per UNM_DIR_* */
	uint32_t first_ring;	/* its rings in desc->ring[]: TX, then RX */
	/* per UNM_DIR_*: the vector that fires in the guest when the host
	 * side kicks this direction's binders (MSI-X), and the doorbell
	 * vector of peer 0 that this direction's rings ring to kick the
	 * host side; UNM_VM_NO_VECTOR: none */
	uint16_t wake_vec[2];
	uint16_t kick_vec[2];
	uint32_t pad;
};

struct unm_vm_desc {
	uint32_t magic;
	uint32_t version;
	_Atomic uint32_t state;	/* UNM_VM_STATE_* */
	uint32_t size;		/* bytes of this descriptor in use */
	uint64_t region_size;	/* the host's region is [0, region_size) */
	uint64_t buf_pool_ofs;
	uint32_t buf_size;
	uint32_t buf_total;
	uint64_t guest_ofs;	/* the guest's own area */
	uint64_t guest_size;
	uint16_t host_mem_id;	/* for messages */
	uint16_t vectors;	/* the server's vectors per peer */
	uint32_t nports;
	uint32_t nrings;
	uint32_t pad;
	char holder[UNM_VM_HOLDER_LEN];
	struct unm_vm_port port[UNM_VM_MAX_PORTS];
	struct unm_vm_ring ring[];
};

#define UNM_VM_MAX_RINGS \
	((UNM_VM_DESC_SIZE - offsetof(struct unm_vm_desc, ring)) / sizeof(struct unm_vm_ring))

_Static_assert(sizeof(struct unm_vm_ring) == 24, "descriptor ring entry layout");
_Static_assert(sizeof(struct unm_vm_port) == 96, "descriptor port entry layout");
_Static_assert(offsetof(struct unm_vm_desc, ring) % 8 == 0, "descriptor ring array alignment");

#endif /* UNM_VM_H */
