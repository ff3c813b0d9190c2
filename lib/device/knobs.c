#include "edgebench/knobs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgebench/util.h"

#define CPUFREQ "/sys/devices/system/cpu/cpufreq"

static int cmp_policy(const void *a, const void *b)
{
    return atoi((const char *)a + 6) - atoi((const char *)b + 6);
}

int eb_cpufreq_policies(const char *root, char (**names)[16])
{
    *names = NULL;
    char dir[1024];
    eb_path_join(dir, sizeof dir, root, CPUFREQ);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "policy", 6) != 0 || strlen(e->d_name) >= 16) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char(*grown)[16] = realloc(*names, (size_t)cap * 16);
            if (!grown) {
                closedir(d);
                free(*names);
                *names = NULL;
                return -1;
            }
            *names = grown;
        }
        snprintf((*names)[n++], 16, "%s", e->d_name);
    }
    closedir(d);
    if (n) qsort(*names, (size_t)n, 16, cmp_policy); /* policy2 before policy10 */
    return n;
}

static bool policy_file(const char *root, const char *policy, const char *file, char *out,
                        size_t cap)
{
    char rel[256], path[1024];
    snprintf(rel, sizeof rel, CPUFREQ "/%s/%s", policy, file);
    eb_path_join(path, sizeof path, root, rel);
    return eb_read_line(path, out, cap);
}

static bool word_in(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = list; (p = strstr(p, w)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ')) return true;
    return false;
}

bool eb_governor_offered(const char *root, const char *gov, char *offered, size_t cap)
{
    char(*pol)[16], list[512];
    int n = eb_cpufreq_policies(root, &pol);
    if (offered && cap) offered[0] = '\0';
    bool ok = n > 0;
    for (int i = 0; ok && i < n; i++) {
        if (!policy_file(root, pol[i], "scaling_available_governors", list, sizeof list)) {
            ok = false;
            break;
        }
        if (i == 0 && offered) snprintf(offered, cap, "%s", list);
        ok = word_in(list, gov);
    }
    free(pol);
    return ok;
}

static eb_status write_policy(const char *root, const char *policy, const char *gov, eb_error *err)
{
    char rel[256], path[1024];
    snprintf(rel, sizeof rel, CPUFREQ "/%s/scaling_governor", policy);
    eb_path_join(path, sizeof path, root, rel);
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return eb_fail(err, EB_E_IO, "%s: %s", path, strerror(errno));
    size_t n = strlen(gov);
    bool ok = write(fd, gov, n) == (ssize_t)n;
    int e = errno;
    close(fd);
    return ok ? EB_OK : eb_fail(err, EB_E_IO, "%s: writing '%s': %s", path, gov, strerror(e));
}

eb_status eb_governor_set_all(const char *root, const char *gov, eb_error *err)
{
    char offered[512];
    if (!eb_governor_offered(root, gov, offered, sizeof offered))
        return eb_fail(err, EB_E_INVALID_ARG, "governor '%s' is not offered (offered: %s)", gov,
                       offered[0] ? offered : "none: no cpufreq");
    char(*pol)[16];
    int n = eb_cpufreq_policies(root, &pol);
    if (n < 0) return eb_fail(err, EB_E_NO_MEMORY, "cpufreq policies");
    eb_status st = EB_OK;
    for (int i = 0; i < n && st == EB_OK; i++)
        st = write_policy(root, pol[i], gov, err);
    /* every policy, read back: a trial is a powersave trial only when all are */
    char now[64];
    for (int i = 0; i < n && st == EB_OK; i++)
        if (!policy_file(root, pol[i], "scaling_governor", now, sizeof now) || strcmp(now, gov))
            st = eb_fail(err, EB_E_IO, "%s: governor reads '%s' after writing '%s' (%d policies)",
                         pol[i], now, gov, n);
    free(pol);
    return st;
}

char *eb_governors_describe(const char *root)
{
    char(*pol)[16], gov[64];
    int n = eb_cpufreq_policies(root, &pol);
    size_t cap = (size_t)(n > 0 ? n : 0) * (16 + 64 + 2) + 1, len = 0;
    char *out = malloc(cap);
    if (out) out[0] = '\0';
    for (int i = 0; out && i < n; i++)
        if (policy_file(root, pol[i], "scaling_governor", gov, sizeof gov))
            len += (size_t)snprintf(out + len, cap - len, "%s%s=%s", len ? " " : "", pol[i], gov);
    free(pol);
    return out;
}

int eb_nvpmodel_id(const char *root, const char *name)
{
    char path[1024], buf[65536];
    eb_path_join(path, sizeof path, root, "/etc/nvpmodel.conf");
    if (eb_read_text(path, buf, sizeof buf, NULL) != EB_OK) return -1;
    /* < POWER_MODEL ID=0 NAME=MAXN > */
    for (const char *p = buf; (p = strstr(p, "POWER_MODEL")); p++) {
        int id;
        char nm[64];
        if (sscanf(p, "POWER_MODEL ID=%d NAME=%63[^ >]", &id, nm) == 2 && strcmp(nm, name) == 0)
            return id;
    }
    return -1;
}

eb_status eb_knobs_save(const char *state_path, const char *root, int nvpmodel_id, eb_error *err)
{
    if (access(state_path, F_OK) == 0) return EB_OK; /* the first state is the one to keep */
    char(*pol)[16], gov[64];
    int n = eb_cpufreq_policies(root, &pol);
    if (n < 0) return eb_fail(err, EB_E_NO_MEMORY, "cpufreq policies");
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", state_path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        free(pol);
        return eb_fail(err, EB_E_IO, "state file %s: %s", tmp, strerror(errno));
    }
    fprintf(f, "# edgebench sweep: device settings to restore\nroot=%s\n", root);
    for (int i = 0; i < n; i++)
        if (policy_file(root, pol[i], "scaling_governor", gov, sizeof gov))
            fprintf(f, "%s=%s\n", pol[i], gov);
    free(pol);
    if (nvpmodel_id >= 0) fprintf(f, "nvpmodel=%d\n", nvpmodel_id);
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, state_path) != 0)
        return eb_fail(err, EB_E_IO, "state file %s: %s", state_path, strerror(errno));
    return EB_OK;
}

eb_status eb_knobs_restore(const char *state_path, const char *root, bool *restored,
                           int *nvpmodel_id, eb_error *err)
{
    *restored = false;
    *nvpmodel_id = -1;
    FILE *f = fopen(state_path, "r");
    if (!f)
        return errno == ENOENT
                   ? EB_OK
                   : eb_fail(err, EB_E_IO, "state file %s: %s", state_path, strerror(errno));
    char line[256];
    eb_status st = EB_OK;
    while (fgets(line, sizeof line, f)) {
        char key[64], val[128];
        if (line[0] == '#' || sscanf(line, "%63[^=]=%127s", key, val) != 2) continue;
        if (strcmp(key, "nvpmodel") == 0) {
            *nvpmodel_id = atoi(val);
            continue;
        }
        /* Only governors of policies: nothing else is ever written. */
        if (strncmp(key, "policy", 6) != 0 || strchr(key, '/') || strchr(val, '/')) continue;
        eb_status s = write_policy(root, key, val, err);
        if (s != EB_OK) st = s;
    }
    fclose(f);
    if (st == EB_OK) {
        unlink(state_path);
        *restored = true;
    }
    return st;
}
