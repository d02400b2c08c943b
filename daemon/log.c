/*
 * log.c - netmapd's levelled log.  Lines carry a timestamp and go to
 * stderr (foreground) or a file (started on demand, detached).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nmd.h"

int nmd_log_level = NMD_LOG_INFO;
static FILE *log_fp;

void nmd_log_open(const char *file)
{
	FILE *fp;

	if (!file) {
		log_fp = stderr;
		return;
	}
	fp = fopen(file, "ae");
	if (fp) {
		setvbuf(fp, NULL, _IOLBF, 0);
		log_fp = fp;
	} else {
		log_fp = stderr;
	}
}

void nmd_log_msg(int level, const char *fmt, ...)
{
	static const char *const tag[] = { "error", "warn", "info", "debug" };
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	va_list ap;
	FILE *fp = log_fp ? log_fp : stderr;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	flockfile(fp);
	fprintf(fp, "%s.%03ld netmapd[%d] %s: ", stamp, ts.tv_nsec / 1000000,
		(int)getpid(), tag[level < 0 ? 0 : level > 3 ? 3 : level]);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fputc('\n', fp);
	funlockfile(fp);
}
