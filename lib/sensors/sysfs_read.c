#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "edgebench/sensors.h"

static int open_ro(const char *path)
{
    return open(path, O_RDONLY | O_CLOEXEC);
}

int (*eb_sysfs_open)(const char *path) = open_ro;

bool eb_sysfs_read_i64(int fd, int64_t *out)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return false;
    buf[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || end == buf) return false;
    *out = v;
    return true;
}

bool eb_sysfs_read_u64(int fd, uint64_t *out)
{
    int64_t v;
    if (!eb_sysfs_read_i64(fd, &v) || v < 0) return false;
    *out = (uint64_t)v;
    return true;
}

const char *eb_probe_name(eb_probe p)
{
    switch (p) {
    case EB_PROBE_FOUND:
        return "found";
    case EB_PROBE_ABSENT:
        return "absent";
    case EB_PROBE_NO_PERMISSION:
        return "no permission";
    }
    return "?";
}

const char *eb_channel_unit(eb_channel_kind k)
{
    static const char *const units[] = {"J", "W", "MiB", "MHz", "C", "%"};
    return (unsigned)k < sizeof units / sizeof units[0] ? units[k] : "?";
}

bool eb_source_room(eb_source *s, const char *name)
{
    if (s->n_channels < EB_MAX_CHANNELS) return true;
    size_t len = strlen(s->left_out), n = strlen(name);
    /* keep room for the count that closes the list */
    if (len + n + 2 < sizeof s->left_out - 24)
        snprintf(s->left_out + len, sizeof s->left_out - len, "%s%s", len ? ", " : "", name);
    s->n_left_out++;
    return false;
}

void eb_channel_accuracy(eb_channel *ch, double gain_err, double offset_w, double step,
                         const char *basis)
{
    ch->gain_err = gain_err;
    ch->offset_w = offset_w;
    ch->step = step;
    snprintf(ch->accuracy_basis, sizeof ch->accuracy_basis, "%s", basis ? basis : "");
}
