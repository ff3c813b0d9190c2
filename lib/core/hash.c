/* Content hashes of model files, remembered by file identity (device,
 * inode, size, modification time) in the cache directory, so a model of
 * several GB is read once, not before every trial. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgebench/util.h"

static eb_status hash_file(const char *path, char hex[65], eb_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return eb_fail(err, EB_E_IO, "hash %s: %s", path, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *buf = malloc(1 << 20);
    eb_status st = ctx && buf && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1
                       ? EB_OK
                       : eb_fail(err, EB_E_NO_MEMORY, "hash %s: cannot start SHA-256", path);
    ssize_t n;
    while (st == EB_OK && (n = read(fd, buf, 1 << 20)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            st = eb_fail(err, EB_E_IO, "hash %s: %s", path, strerror(errno));
        } else if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
            st = eb_fail(err, EB_E_INTERNAL, "hash %s: SHA-256 failed", path);
        }
    }
    unsigned char md[32];
    unsigned int len = 0;
    if (st == EB_OK && (EVP_DigestFinal_ex(ctx, md, &len) != 1 || len != 32))
        st = eb_fail(err, EB_E_INTERNAL, "hash %s: SHA-256 failed", path);
    for (unsigned i = 0; st == EB_OK && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    EVP_MD_CTX_free(ctx);
    free(buf);
    close(fd);
    return st;
}

eb_status eb_file_sha256(const char *path, char hex[65], eb_error *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return eb_fail(err, EB_E_IO, "hash %s: %s", path, strerror(errno));
    char id[128];
    snprintf(id, sizeof id, "%llx:%llx:%lld:%lld.%09ld", (unsigned long long)sb.st_dev,
             (unsigned long long)sb.st_ino, (long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
             sb.st_mtim.tv_nsec);
    char cache[1024], file[1100];
    eb_error ignored = {0};
    bool have_cache =
        eb_cache_dir(cache, sizeof cache, &ignored) == EB_OK && eb_mkdirs(cache, &ignored) == EB_OK;
    snprintf(file, sizeof file, "%s/sha256-cache", cache);
    if (have_cache) {
        FILE *f = fopen(file, "r");
        char line[256];
        while (f && fgets(line, sizeof line, f)) {
            char k[128], h[65];
            if (sscanf(line, "%127s %64s", k, h) == 2 && strcmp(k, id) == 0 && strlen(h) == 64) {
                memcpy(hex, h, 65);
                fclose(f);
                return EB_OK;
            }
        }
        if (f) fclose(f);
    }
    eb_status st = hash_file(path, hex, err);
    if (st == EB_OK && have_cache) {
        /* a lost line costs one more hash, never a wrong one */
        FILE *f = fopen(file, "a");
        if (f) {
            fprintf(f, "%s %s\n", id, hex);
            fclose(f);
        }
    }
    return st;
}

void eb_sha256_text(const char *text, size_t len, char hex[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, text, len) == 1 && EVP_DigestFinal_ex(ctx, md, &n) == 1 &&
              n == 32;
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", ok ? md[i] : 0);
    hex[64] = '\0';
}
