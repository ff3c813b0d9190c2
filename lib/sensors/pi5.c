/* Raspberry Pi 5 PMIC rails through the firmware's pmic_read_adc. There is
 * no input current, so the board figure is the sum of V x I over the rails
 * the PMIC feeds: it misses conversion losses and 5 V loads (USB, fan). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/sensors.h"
#include "edgebench/vcio.h"

/* The Pi 5 PMIC reports 12 rails; a reading with more than this is refused
 * rather than summed without some of them. */
#define MAX_RAILS 64

typedef struct pi5_state {
    eb_source base;
    const eb_vc_transport *tr;
    void *h;
    char text[4096];
} pi5_state;

bool eb_pmic_parse(const char *text, eb_pmic_reading *out)
{
    struct {
        char name[32];
        double a, v;
        bool has_a, has_v;
    } rails[MAX_RAILS];
    int n = 0;
    memset(out, 0, sizeof *out);
    out->ext5v_v = NAN;
    for (const char *line = text; line && *line;) {
        char name[48];
        double val;
        char unit;
        /* "  VDD_CORE_A current(7)=1.42880000A" */
        if (sscanf(line, " %47s %*[a-z](%*d)=%lf%c", name, &val, &unit) == 3) {
            size_t len = strlen(name);
            bool is_a = len > 2 && strcmp(name + len - 2, "_A") == 0 && unit == 'A';
            bool is_v = len > 2 && strcmp(name + len - 2, "_V") == 0 && unit == 'V';
            if (is_a || is_v) {
                name[len - 2] = '\0';
                int k = 0;
                while (k < n && strcmp(rails[k].name, name) != 0)
                    k++;
                if (k == n && n == MAX_RAILS) return false;
                if (k == n) {
                    snprintf(rails[n].name, sizeof rails[n].name, "%s", name);
                    rails[n].has_a = rails[n].has_v = false;
                    n++;
                }
                if (k < n) {
                    if (is_a) rails[k].a = val, rails[k].has_a = true;
                    if (is_v) rails[k].v = val, rails[k].has_v = true;
                }
            }
        }
        line = strchr(line, '\n');
        if (line) line++;
    }
    for (int k = 0; k < n; k++) {
        if (strcmp(rails[k].name, "EXT5V") == 0 && rails[k].has_v) out->ext5v_v = rails[k].v;
        if (!rails[k].has_a || !rails[k].has_v) continue;
        double w = rails[k].a * rails[k].v;
        out->n_rails++;
        out->board_w += w;
        if (strcmp(rails[k].name, "VDD_CORE") == 0) out->core_w = w;
        if (strncmp(rails[k].name, "DDR_VDD", 7) == 0) out->ddr_w += w;
    }
    return out->n_rails > 0;
}

double eb_pmic_wall_estimate(double board_w)
{
    return 1.1451 * board_w + 0.5879;
}

static const eb_vc_transport *const transports[] = {&eb_vc_mailbox, &eb_vc_vcgencmd};

static eb_probe pi5_probe(const eb_probe_ctx *ctx, eb_source **out, char *reason, size_t cap)
{
    pi5_state *s = calloc(1, sizeof *s);
    if (!s) return EB_PROBE_ABSENT;
    char why[2][160] = {"", ""};
    size_t n_tr = eb_vc_transport_override ? 1 : 2;
    for (size_t i = 0; i < n_tr && !s->h; i++) {
        const eb_vc_transport *tr =
            eb_vc_transport_override ? eb_vc_transport_override : transports[i];
        void *h = tr->open(ctx->root, why[i], sizeof why[i]);
        if (!h) continue;
        eb_pmic_reading r;
        if (tr->command(h, "pmic_read_adc", s->text, sizeof s->text) &&
            eb_pmic_parse(s->text, &r)) {
            s->tr = tr;
            s->h = h;
        } else {
            snprintf(why[i], sizeof why[i], "%s: pmic_read_adc gave no rails (not a Pi 5?)",
                     tr->name);
            tr->close(h);
        }
    }
    if (!s->h) {
        snprintf(reason, cap, "%s; %s", why[0], why[1][0] ? why[1] : "no other transport");
        free(s);
        return strstr(why[0], "permission") ? EB_PROBE_NO_PERMISSION : EB_PROBE_ABSENT;
    }
    static const struct {
        const char *name;
        bool in_total, estimate;
    } ch[] = {{"pmic:board-rails", true, false},
              {"pmic:VDD_CORE", false, false},
              {"pmic:DDR", false, false},
              {"pmic:wall-estimate", false, true}};
    for (int c = 0; c < 4; c++) {
        snprintf(s->base.channels[c].name, sizeof s->base.channels[c].name, "%s", ch[c].name);
        s->base.channels[c].kind = EB_CH_POWER;
        s->base.channels[c].in_total = s->base.channels[c].whole_device = ch[c].in_total;
        s->base.channels[c].estimate = ch[c].estimate;
        /* vcgencmd prints 8 decimals of A and V: the step is far below anything else */
        eb_channel_accuracy(&s->base.channels[c], NAN, NAN, 0,
                            "Raspberry Pi does not publish the PMIC ADC's accuracy; the rails "
                            "miss conversion losses and the 5 V input (calibrate to a meter)");
    }
    s->base.n_channels = 4;
    s->base.ops = &eb_source_pi5_pmic;
    *out = &s->base;
    return EB_PROBE_FOUND;
}

static bool pi5_read(eb_source *src, double *values)
{
    pi5_state *s = (pi5_state *)src;
    eb_pmic_reading r;
    if (!s->tr->command(s->h, "pmic_read_adc", s->text, sizeof s->text) ||
        !eb_pmic_parse(s->text, &r))
        return false;
    values[0] = r.board_w;
    values[1] = r.core_w;
    values[2] = r.ddr_w;
    values[3] = eb_pmic_wall_estimate(r.board_w);
    return true;
}

static void pi5_close(eb_source *src)
{
    pi5_state *s = (pi5_state *)src;
    s->tr->close(s->h);
    free(s);
}

/* One read costs ~23 ms of firmware time: its own, slower cadence. */
const eb_source_ops eb_source_pi5_pmic = {
    .name = "pi5-pmic",
    .description = "Raspberry Pi 5 PMIC rails (pmic_read_adc)",
    .min_interval_s = 0.1,
    .probe = pi5_probe,
    .read = pi5_read,
    .close = pi5_close,
};
