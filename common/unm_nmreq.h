/*
 * unm_nmreq.h - facts about netmap's control requests that both sides of
 * the control protocol need: the fixed body size of each request type and
 * option type.
 */
#ifndef UNM_NMREQ_H
#define UNM_NMREQ_H

#include <stdint.h>

/* Body size of request type t; 0 for types without a body, -1 if t is
 * unknown. */
int unm_nmreq_body_size(uint16_t t);

/* Size of an option's body (after the 24-byte struct nmreq_option) for
 * option type t, given its nro_size; unknown types have none. */
uint64_t unm_nmreq_opt_body_size(uint32_t t, uint64_t nro_size);

#endif
