/*
 * unm_reason.h - why the calling thread's last control operation failed,
 * in words: netmapd's reason from its reply ("invalid VALE port name",
 * "lives in memory region 3"), or the library's own ("netmapd ... belongs
 * to uid 1000").  libnetmap adds it to the messages it sends to the nmctx
 * error callback, so that tools print more than strerror().  Private.
 */
#ifndef UNM_REASON_H
#define UNM_REASON_H

const char *unm_reason(void);	/* "" when nobody said */
void unm_reason_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void unm_reason_clear(void);

#endif
