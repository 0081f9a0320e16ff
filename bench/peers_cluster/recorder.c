/* recorder.c - the consumers' shared record file (format in recorder.h). */
#include "recorder.h"

#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef struct pc_header {
    uint64_t magic, capacity;
    _Atomic uint64_t ready, count, last_ns, bad;
    uint64_t reserved[2];
} pc_header;

_Static_assert(sizeof(pc_header) == PC_HEADER_SIZE, "header layout");

struct pc_recorder {
    pc_header *head;
    unsigned char *records;
    size_t map_len;
    uint64_t count, bad; /* this thread's copies of the shared counters */
};

uint64_t pc_now_ns(void)
{
    return hs__monotonic_ns();
}

uint64_t pc_fnv1a64(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

int pc_recorder_open(pc_recorder **out, const char *path, uint64_t capacity)
{
    pc_recorder *r = calloc(1, sizeof *r);
    if (r == NULL)
        return ENOMEM;
    r->map_len = PC_HEADER_SIZE + (size_t)capacity * PC_RECORD_SIZE;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = 0;
    if (fd < 0 || ftruncate(fd, (off_t)r->map_len) != 0)
        rc = errno;
    void *map =
        rc == 0 ? mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    if (rc == 0 && map == MAP_FAILED)
        rc = errno;
    if (fd >= 0)
        close(fd);
    if (rc != 0) {
        free(r);
        return rc;
    }
    r->head = map;
    r->records = (unsigned char *)map + PC_HEADER_SIZE;
    memcpy(&r->head->magic, "PCREC01", 8);
    r->head->capacity = capacity;
    *out = r;
    return 0;
}

void pc_recorder_ready(pc_recorder *r)
{
    atomic_store_explicit(&r->head->ready, 1, memory_order_release);
}

/* Copy the string value after `"name":"` into dst (NUL-padded); 0 if absent. */
const char *pc_string_after(const char *body, size_t len, const char *mark, size_t mark_len,
                            size_t *n)
{
    const char *at = memmem(body, len, mark, mark_len);
    if (at == NULL)
        return NULL;
    at += mark_len;
    const char *end = memchr(at, '"', len - (size_t)(at - body));
    if (end == NULL)
        return NULL;
    *n = (size_t)(end - at);
    return at;
}

static int copy_field(const char *body, size_t len, const char *mark, size_t mark_len, char *dst,
                      size_t cap)
{
    size_t found;
    const char *at = pc_string_after(body, len, mark, mark_len, &found);
    if (at == NULL)
        return 0;
    size_t n = found < cap - 1 ? found : cap - 1;
    memcpy(dst, at, n);
    memset(dst + n, 0, cap - n);
    return 1;
}

void pc_recorder_add(pc_recorder *r, const char *body, size_t len, uint64_t now_ns)
{
    static const char id_mark[] = "\"msg_id\":\"", user_mark[] = PC_USER_MARK;
    int ok = 1;
    if (r->count < r->head->capacity) {
        unsigned char *rec = r->records + r->count * PC_RECORD_SIZE;
        ok &= copy_field(body, len, id_mark, sizeof id_mark - 1, (char *)rec, PC_ID_LEN);
        ok &= copy_field(body, len, user_mark, sizeof user_mark - 1, (char *)rec + PC_ID_LEN,
                         PC_USER_LEN);
        uint64_t stamp = 0;
        if (len >= PC_STAMP_TAIL && body[len - 1] == '}' && body[len - 2] == '"') {
            for (size_t i = len - PC_STAMP_TAIL; i < len - 2; i++)
                stamp = stamp * 10 + (uint64_t)(body[i] - '0');
        } else {
            ok = 0;
        }
        uint64_t latency = stamp != 0 && now_ns > stamp ? now_ns - stamp : 0;
        memcpy(rec + PC_ID_LEN + PC_USER_LEN, &latency, sizeof latency);
    }
    if (!ok)
        atomic_store_explicit(&r->head->bad, ++r->bad, memory_order_relaxed);
    atomic_store_explicit(&r->head->last_ns, now_ns, memory_order_relaxed);
    atomic_store_explicit(&r->head->count, ++r->count, memory_order_release);
}

void pc_recorder_close(pc_recorder *r)
{
    if (r == NULL)
        return;
    munmap(r->head, r->map_len);
    free(r);
}
