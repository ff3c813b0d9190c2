/* Raspberry Pi firmware commands (the VideoCore "gencmd" interface) and the
 * Pi 5 PMIC rails read through it. The transport is an interface so that
 * tests can plug in canned firmware answers: an ioctl cannot be faked with
 * files. */
#ifndef EDGEBENCH_VCIO_H
#define EDGEBENCH_VCIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct eb_vc_transport {
    const char *name;
    /* Opens the channel under root; NULL with a reason when unavailable. */
    void *(*open)(const char *root, char *reason, size_t cap);
    /* Runs a firmware command such as "pmic_read_adc"; resp gets its text. */
    bool (*command)(void *h, const char *cmd, char *resp, size_t cap);
    void (*close)(void *h);
} eb_vc_transport;

/* The mailbox property ioctl on /dev/vcio_gencmd or /dev/vcio: no process
 * is spawned per sample. */
extern const eb_vc_transport eb_vc_mailbox;
/* Runs the vcgencmd program ($EDGEBENCH_VCGENCMD or vcgencmd on PATH). */
extern const eb_vc_transport eb_vc_vcgencmd;
/* When set, the only transport tried (tests). */
extern const eb_vc_transport *eb_vc_transport_override;

#define EB_VC_GENCMD_TAG 0x00030080u
#define EB_VC_GENCMD_TEXT 1024u
#define EB_VC_GENCMD_WORDS (6u + EB_VC_GENCMD_TEXT / 4u + 1u)

/* Builds the property buffer for a gencmd request. */
void eb_vc_gencmd_pack(uint32_t buf[EB_VC_GENCMD_WORDS], const char *cmd);
/* Extracts the answer; false (with the reason in resp) when the firmware
 * reported an error. */
bool eb_vc_gencmd_unpack(const uint32_t buf[EB_VC_GENCMD_WORDS], char *resp, size_t cap);

typedef struct eb_pmic_reading {
    int n_rails;    /* rails with both a current and a voltage line */
    double board_w; /* sum of V x I over the paired rails */
    double core_w;  /* VDD_CORE: the CPU cores */
    double ddr_w;   /* DDR_VDD2 + DDR_VDDQ */
    double ext5v_v; /* input voltage, NaN if absent */
} eb_pmic_reading;

/* Parses `pmic_read_adc` text, pairing current and voltage by rail name. */
bool eb_pmic_parse(const char *text, eb_pmic_reading *out);

/* A published fit from rail sum to wall power; always an estimate. */
double eb_pmic_wall_estimate(double board_w);

/* Parses "throttled=0x50005" or a bare hex number (the sysfs file). */
bool eb_throttled_parse(const char *text, uint32_t *flags);
/* Reads <root>/sys/devices/platform/soc/soc:firmware/get_throttled; false
 * when absent (not a Raspberry Pi). */
bool eb_throttled_read(const char *root, uint32_t *flags);
/* Names the flags set: "under-voltage now, throttled now, ..." or "none". */
void eb_throttled_describe(uint32_t flags, char *out, size_t cap);

#endif
