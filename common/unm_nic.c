/*
 * unm_nic.c - the mode words of netmap:IFNAME ports (see unm_nic.h),
 * shared by libnetmap's @conf:nic= option and netmapd's --nic-mode.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "unm_nic.h"

static const struct {
	const char *word;
	uint64_t bit;
} words[] = {
	{ "native", NR_UNM_NIC_NATIVE },
	{ "generic", NR_UNM_NIC_GENERIC },
	{ "emulated", NR_UNM_NIC_EMULATED },
	{ "zerocopy", NR_UNM_NIC_ZEROCOPY },
	{ "copy", NR_UNM_NIC_COPY },
};

#define ATTACH_BITS (NR_UNM_NIC_NATIVE | NR_UNM_NIC_GENERIC | NR_UNM_NIC_EMULATED)
#define BIND_BITS   (NR_UNM_NIC_ZEROCOPY | NR_UNM_NIC_COPY)

int unm_nic_mode_check(uint64_t mode)
{
	uint64_t a = mode & ATTACH_BITS, b = mode & BIND_BITS;

	if (mode & ~NR_UNM_NIC_MASK)
		return -EINVAL;
	/* at most one of each group; AF_PACKET has no bind mode, and zero
	 * copy needs the driver's XDP */
	if ((a & (a - 1)) || (b & (b - 1)))
		return -EINVAL;
	if (a == NR_UNM_NIC_EMULATED && b)
		return -EINVAL;
	if (a == NR_UNM_NIC_GENERIC && b == NR_UNM_NIC_ZEROCOPY)
		return -EINVAL;
	return 0;
}

int unm_nic_mode_parse(const char *s, uint64_t *mode)
{
	uint64_t m = 0;
	size_t i;

	if (strcmp(s, "auto") == 0) {
		*mode = 0;
		return 0;
	}
	while (*s) {
		size_t len = strcspn(s, "+");

		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			if (strlen(words[i].word) == len && strncmp(s, words[i].word, len) == 0)
				break;
		}
		if (i == sizeof(words) / sizeof(words[0]) || (m & words[i].bit))
			return -EINVAL;
		m |= words[i].bit;
		s += len;
		if (*s == '+') {
			s++;
			if (*s == '\0')
				return -EINVAL;
		}
	}
	if (m == 0 || unm_nic_mode_check(m) < 0)
		return -EINVAL;
	*mode = m;
	return 0;
}

const char *unm_nic_mode_str(uint64_t mode, char *buf, size_t len)
{
	size_t i, off = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		int n;

		if (!(mode & words[i].bit))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "+" : "", words[i].word);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	if (off == 0)
		snprintf(buf, len, "auto");
	return buf;
}

const char *unm_nic_mode_desc(uint64_t mode)
{
	if (mode & NR_UNM_NIC_EMULATED)
		return "emulated (AF_PACKET)";
	if (mode & NR_UNM_NIC_NATIVE)
		return mode & NR_UNM_NIC_ZEROCOPY ? "AF_XDP, native XDP, zero copy" :
						    "AF_XDP, native XDP, copy mode";
	if (mode & NR_UNM_NIC_GENERIC)
		return "AF_XDP, generic XDP, copy mode";
	return "unknown";
}
