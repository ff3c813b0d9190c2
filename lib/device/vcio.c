/* Raspberry Pi firmware commands: the mailbox ioctl and the vcgencmd
 * fallback, and the throttling flags. */
#include "edgebench/vcio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "edgebench/util.h"

const eb_vc_transport *eb_vc_transport_override = NULL;

void eb_vc_gencmd_pack(uint32_t buf[EB_VC_GENCMD_WORDS], const char *cmd)
{
    memset(buf, 0, EB_VC_GENCMD_WORDS * sizeof buf[0]);
    buf[0] = EB_VC_GENCMD_WORDS * 4u; /* total size in bytes */
    buf[1] = 0;                       /* process request */
    buf[2] = EB_VC_GENCMD_TAG;
    buf[3] = EB_VC_GENCMD_TEXT; /* value buffer size */
    buf[4] = 0;                 /* request */
    buf[5] = 0;                 /* gencmd error code, out */
    snprintf((char *)&buf[6], EB_VC_GENCMD_TEXT, "%s", cmd);
    buf[EB_VC_GENCMD_WORDS - 1] = 0; /* end tag */
}

bool eb_vc_gencmd_unpack(const uint32_t buf[EB_VC_GENCMD_WORDS], char *resp, size_t cap)
{
    if (buf[1] != 0x80000000u) {
        snprintf(resp, cap, "firmware refused the request (code 0x%08x)", buf[1]);
        return false;
    }
    if (buf[5] != 0) {
        snprintf(resp, cap, "gencmd error %u", buf[5]);
        return false;
    }
    const char *text = (const char *)&buf[6];
    size_t n = strnlen(text, EB_VC_GENCMD_TEXT);
    if (n >= cap) n = cap - 1;
    memcpy(resp, text, n);
    resp[n] = '\0';
    return true;
}

/* ---- mailbox ---- */

#define VCIO_IOC_PROPERTY _IOWR(100, 0, char *)

static void *mailbox_open(const char *root, char *reason, size_t cap)
{
    static const char *const devs[] = {"/dev/vcio_gencmd", "/dev/vcio"};
    char path[1024];
    int first_errno = 0;
    for (size_t i = 0; i < 2; i++) {
        eb_path_join(path, sizeof path, root, devs[i]);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
            int *h = malloc(sizeof *h);
            if (!h) {
                close(fd);
                return NULL;
            }
            *h = fd;
            return h;
        }
        if (!first_errno || errno == EACCES) first_errno = errno;
    }
    if (first_errno == EACCES || first_errno == EPERM)
        snprintf(reason, cap, "/dev/vcio: permission denied (join the 'video' group)");
    else
        snprintf(reason, cap, "no /dev/vcio_gencmd or /dev/vcio (not a Raspberry Pi)");
    return NULL;
}

static bool mailbox_command(void *h, const char *cmd, char *resp, size_t cap)
{
    uint32_t buf[EB_VC_GENCMD_WORDS];
    eb_vc_gencmd_pack(buf, cmd);
    if (ioctl(*(int *)h, VCIO_IOC_PROPERTY, buf) < 0) {
        snprintf(resp, cap, "mailbox ioctl: %s", strerror(errno));
        return false;
    }
    return eb_vc_gencmd_unpack(buf, resp, cap);
}

static void mailbox_close(void *h)
{
    if (!h) return;
    close(*(int *)h);
    free(h);
}

const eb_vc_transport eb_vc_mailbox = {
    .name = "mailbox",
    .open = mailbox_open,
    .command = mailbox_command,
    .close = mailbox_close,
};

/* ---- vcgencmd program ---- */

typedef struct vcgencmd_handle {
    char program[1024];
} vcgencmd_handle;

static void *vcgencmd_open(const char *root, char *reason, size_t cap)
{
    const char *env = getenv("EDGEBENCH_VCGENCMD");
    /* A fixture tree describes another device: this one's program is not
     * it; the tree may carry its own (usr/bin/vcgencmd, answering from its
     * recorded output) */
    char own[1024] = "";
    if (root && strcmp(root, "/") != 0 && !(env && env[0])) {
        eb_path_join(own, sizeof own, root, "/usr/bin/vcgencmd");
        if (access(own, X_OK) != 0) {
            snprintf(reason, cap, "no vcgencmd for a --sysfs-root tree (it may carry its own: %s)",
                     own);
            return NULL;
        }
    }
    vcgencmd_handle *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    if (!eb_find_program(own[0]          ? own
                         : env && env[0] ? env
                                         : "vcgencmd",
                         h->program, sizeof h->program)) {
        snprintf(reason, cap, "no vcgencmd program on PATH");
        free(h);
        return NULL;
    }
    return h;
}

/* Runs the program without a shell; the command is one fixed word. */
static bool vcgencmd_command(void *vh, const char *cmd, char *resp, size_t cap)
{
    vcgencmd_handle *h = vh;
    const char *argv[] = {h->program, cmd, NULL};
    return eb_run_program(argv, resp, cap) == 0 && strncmp(resp, "error=", 6) != 0;
}

static void vcgencmd_close(void *h)
{
    free(h);
}

const eb_vc_transport eb_vc_vcgencmd = {
    .name = "vcgencmd",
    .open = vcgencmd_open,
    .command = vcgencmd_command,
    .close = vcgencmd_close,
};

/* ---- throttling ---- */

bool eb_throttled_parse(const char *text, uint32_t *flags)
{
    const char *p = strstr(text, "throttled=");
    p = p ? p + 10 : text;
    while (*p == ' ')
        p++;
    char *end;
    errno = 0;
    unsigned long v = strtoul(p, &end, 16);
    if (errno || end == p) return false;
    *flags = (uint32_t)v;
    return true;
}

bool eb_throttled_read(const char *root, uint32_t *flags)
{
    char path[1024], text[64];
    eb_path_join(path, sizeof path, root, "/sys/devices/platform/soc/soc:firmware/get_throttled");
    return eb_read_line(path, text, sizeof text) && eb_throttled_parse(text, flags);
}

void eb_throttled_describe(uint32_t flags, char *out, size_t cap)
{
    static const char *const now[4] = {"under-voltage", "frequency capped", "throttled",
                                       "soft temperature limit"};
    size_t n = 0;
    out[0] = '\0';
    for (int b = 0; b < 4; b++) {
        if (flags & (1u << b))
            n +=
                (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s now", n ? ", " : "", now[b]);
        if (flags & (1u << (b + 16)))
            n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s since boot", n ? ", " : "",
                                  now[b]);
    }
    if (n == 0) snprintf(out, cap, "none");
}
