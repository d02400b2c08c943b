/*
 * vu_proto.h - the vhost-user wire format (QEMU docs/interop/vhost-user.rst):
 * request numbers, header flags, payloads, protocol feature bits.
 *
 * Shared by the backend (vhost_user.c), the tests that play QEMU, the
 * benchmark and the fuzz target.  Native byte order, packed layouts as
 * QEMU sends them (every payload struct has no padding).
 */
#ifndef NMD_VU_PROTO_H
#define NMD_VU_PROTO_H

#include <stdint.h>

#include "vu_mem.h"

/* front-end requests */
enum {
	UNM_VU_GET_FEATURES = 1,
	UNM_VU_SET_FEATURES = 2,
	UNM_VU_SET_OWNER = 3,
	UNM_VU_RESET_OWNER = 4,
	UNM_VU_SET_MEM_TABLE = 5,
	UNM_VU_SET_LOG_BASE = 6,
	UNM_VU_SET_LOG_FD = 7,
	UNM_VU_SET_VRING_NUM = 8,
	UNM_VU_SET_VRING_ADDR = 9,
	UNM_VU_SET_VRING_BASE = 10,
	UNM_VU_GET_VRING_BASE = 11,
	UNM_VU_SET_VRING_KICK = 12,
	UNM_VU_SET_VRING_CALL = 13,
	UNM_VU_SET_VRING_ERR = 14,
	UNM_VU_GET_PROTOCOL_FEATURES = 15,
	UNM_VU_SET_PROTOCOL_FEATURES = 16,
	UNM_VU_GET_QUEUE_NUM = 17,
	UNM_VU_SET_VRING_ENABLE = 18,
	UNM_VU_SEND_RARP = 19,
	UNM_VU_NET_SET_MTU = 20,
	UNM_VU_SET_SLAVE_REQ_FD = 21,
	UNM_VU_IOTLB_MSG = 22,
	UNM_VU_SET_VRING_ENDIAN = 23,
	UNM_VU_GET_CONFIG = 24,
	UNM_VU_SET_CONFIG = 25,
	UNM_VU_POSTCOPY_ADVISE = 28,
	UNM_VU_POSTCOPY_END = 30,
	UNM_VU_GET_INFLIGHT_FD = 31,
	UNM_VU_SET_INFLIGHT_FD = 32,
	UNM_VU_RESET_DEVICE = 34,
	UNM_VU_VRING_KICK = 35,
	UNM_VU_GET_MAX_MEM_SLOTS = 36,
	UNM_VU_ADD_MEM_REG = 37,
	UNM_VU_REM_MEM_REG = 38,
	UNM_VU_SET_STATUS = 39,
	UNM_VU_GET_STATUS = 40,
	UNM_VU_REQ_MAX = 41,
};

/* header flags */
#define UNM_VU_VERSION		0x1u
#define UNM_VU_VERSION_MASK	0x3u
#define UNM_VU_FLAG_REPLY	(1u << 2)
#define UNM_VU_FLAG_NEED_REPLY	(1u << 3)

/* protocol feature bits */
#define UNM_VU_PF_MQ		0
#define UNM_VU_PF_LOG_SHMFD	1
#define UNM_VU_PF_RARP		2
#define UNM_VU_PF_REPLY_ACK	3
#define UNM_VU_PF_MTU		4
#define UNM_VU_PF_SLAVE_REQ	5
#define UNM_VU_PF_CONFIG	9
#define UNM_VU_PF_RESET_DEVICE	13
#define UNM_VU_PF_INBAND_NOTIF	14
#define UNM_VU_PF_MEM_SLOTS	15
#define UNM_VU_PF_STATUS	16

/* SET_VRING_KICK/CALL/ERR payload: ring index, and "no descriptor" */
#define UNM_VU_VRING_IDX_MASK	0xffull
#define UNM_VU_VRING_NOFD	(1ull << 8)

/* virtio device status bits (virtio 1.1, 2.1) */
#define UNM_VIRTIO_S_ACKNOWLEDGE	1
#define UNM_VIRTIO_S_DRIVER		2
#define UNM_VIRTIO_S_DRIVER_OK		4
#define UNM_VIRTIO_S_FEATURES_OK	8
#define UNM_VIRTIO_S_NEEDS_RESET	64
#define UNM_VIRTIO_S_FAILED		128

#define UNM_VU_MAX_FDS		8	/* descriptors one message may carry */
#define UNM_VU_MAX_PAYLOAD	4096	/* larger messages close the connection */

struct nmd_vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;		/* payload bytes after the header */
};

struct nmd_vu_state {
	uint32_t index;
	uint32_t num;
};

struct nmd_vu_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;		/* QEMU virtual addresses */
	uint64_t used;
	uint64_t avail;
	uint64_t log;
};

struct nmd_vu_memory {
	uint32_t nregions;
	uint32_t padding;
	struct nmd_vu_region_desc r[UNM_VU_MAX_REGIONS];
};

/* A payload.  On the wire it follows the 12-byte header directly; we
 * keep it apart, aligned, and move both with one iovec pair. */
union nmd_vu_payload {
	uint64_t u64;
	struct nmd_vu_state state;
	struct nmd_vu_addr addr;
	struct nmd_vu_memory mem;
	uint8_t raw[UNM_VU_MAX_PAYLOAD];
};

#endif /* NMD_VU_PROTO_H */
