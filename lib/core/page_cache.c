/* A model file's pages dropped from the page cache before a cold load, and
 * how much of it stayed (pages another process maps, or dirty ones, stay). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgebench/util.h"

eb_status eb_file_drop_cache(const char *path, double *resident_pct, eb_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return eb_fail(err, EB_E_IO, "cold load: %s: %s", path, strerror(errno));
    struct stat sb;
    eb_status st = EB_OK;
    if (fstat(fd, &sb) != 0) {
        st = eb_fail(err, EB_E_IO, "cold load: %s: %s", path, strerror(errno));
        goto out;
    }
    int rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (rc != 0) {
        st = eb_fail(err, EB_E_IO, "cold load: %s: posix_fadvise: %s", path, strerror(rc));
        goto out;
    }
    *resident_pct = 0;
    if (sb.st_size == 0) goto out;
    long page = sysconf(_SC_PAGESIZE);
    size_t len = (size_t)sb.st_size, pages = (len + (size_t)page - 1) / (size_t)page;
    void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    unsigned char *vec = malloc(pages);
    if (map == MAP_FAILED || !vec || mincore(map, len, vec) != 0) {
        st = eb_fail(err, EB_E_IO, "cold load: %s: cannot read its page-cache residency: %s", path,
                     strerror(errno));
    } else {
        size_t in = 0;
        for (size_t i = 0; i < pages; i++)
            in += vec[i] & 1;
        *resident_pct = 100.0 * (double)in / (double)pages;
    }
    free(vec);
    if (map != MAP_FAILED) munmap(map, len);
out:
    close(fd);
    return st;
}
