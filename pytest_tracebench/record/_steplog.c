/* _steplog: the recorder's fast path, in one native pass.
 *
 * Why this exists: recording a step has to build the step's JSON line, check it for secrets
 * and append it to the trace file with one write() system call, so that a SIGKILL of the agent
 * loses nothing. In Python that costs about 20x the write itself, most of it in the secret
 * pre-check (45 substring searches over the lowercased line). Here the line is serialised,
 * scanned and written in one call, while holding the GIL, so a step is atomic with respect to
 * the recorder's other threads.
 *
 * The fast path only handles the common case and says so: plain dict/list/tuple/str/int/
 * float/bool/None values, no secret trigger in the line, the line under the size limit. In
 * every other case emit() returns False without writing anything, and the Python recorder
 * takes its full path (redaction, truncation, the JSON fallback for other objects). The
 * Python path is the specification: tests compare both on the same steps.
 *
 * Nothing here executes or imports anything from the values it serialises: only exact
 * builtin types are read, through the C API, so no user code (no __str__, no __eq__) runs.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 64
#define MAX_TRIGGERS 256
#define MAX_TRIGGER_LEN 64

enum { OK = 0, SLOW = 1, FAIL = -1 };

/* -- output buffer ---------------------------------------------------------------------- */

typedef struct {
    char *data;
    Py_ssize_t len;
    Py_ssize_t cap;
    Py_ssize_t limit; /* a line longer than this takes the slow path (it will be truncated) */
    char small[2048];
} Buf;

static void buf_init(Buf *b, Py_ssize_t limit) {
    b->data = b->small;
    b->len = 0;
    b->cap = (Py_ssize_t)sizeof(b->small);
    b->limit = limit;
}

static void buf_free(Buf *b) {
    if (b->data != b->small)
        PyMem_Free(b->data);
}

/* Grow the buffer to hold `need` bytes. */
static int buf_grow(Buf *b, Py_ssize_t need) {
    Py_ssize_t cap = b->cap;
    while (cap < need)
        cap *= 2;
    char *p;
    if (b->data == b->small) {
        p = PyMem_Malloc((size_t)cap);
        if (p != NULL)
            memcpy(p, b->data, (size_t)b->len);
    } else {
        p = PyMem_Realloc(b->data, (size_t)cap);
    }
    if (p == NULL) {
        PyErr_NoMemory();
        return FAIL;
    }
    b->data = p;
    b->cap = cap;
    return OK;
}

/* Room for `extra` more bytes. SLOW when the line would pass the limit anyway. */
static inline int buf_reserve(Buf *b, Py_ssize_t extra) {
    if (extra > b->limit + 8 - b->len)
        return SLOW;
    if (b->len + extra <= b->cap)
        return OK;
    return buf_grow(b, b->len + extra);
}

static inline int buf_put(Buf *b, const char *s, Py_ssize_t n) {
    int rc = buf_reserve(b, n);
    if (rc != OK)
        return rc;
    memcpy(b->data + b->len, s, (size_t)n);
    b->len += n;
    return OK;
}

#define PUT_LIT(b, lit) buf_put((b), (lit), (Py_ssize_t)(sizeof(lit) - 1))

typedef struct {
    const char *text;
    Py_ssize_t len;
} Lit;

#define LIT(s) {(s), (Py_ssize_t)(sizeof(s) - 1)}

/* -- JSON ------------------------------------------------------------------------------- */

/* 0: copied as is; 1: two-character escape; 2: \u00XX. Bytes >= 0x80 are UTF-8, copied. */
static unsigned char ESCAPE[256];
static char SHORT_ESCAPE[256];
static const char HEX[] = "0123456789abcdef";

static void init_escape_tables(void) {
    for (int c = 0; c < 0x20; c++)
        ESCAPE[c] = 2;
    ESCAPE['"'] = 1;
    SHORT_ESCAPE['"'] = '"';
    ESCAPE['\\'] = 1;
    SHORT_ESCAPE['\\'] = '\\';
    ESCAPE['\b'] = 1;
    SHORT_ESCAPE['\b'] = 'b';
    ESCAPE['\f'] = 1;
    SHORT_ESCAPE['\f'] = 'f';
    ESCAPE['\n'] = 1;
    SHORT_ESCAPE['\n'] = 'n';
    ESCAPE['\r'] = 1;
    SHORT_ESCAPE['\r'] = 'r';
    ESCAPE['\t'] = 1;
    SHORT_ESCAPE['\t'] = 't';
}

static int put_utf8(Buf *b, const unsigned char *p, Py_ssize_t n);

static int put_string(Buf *b, PyObject *s) {
    const unsigned char *p;
    Py_ssize_t n;
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(s) < 0)
        return FAIL;
#endif
    if (PyUnicode_IS_ASCII(s)) {
        p = (const unsigned char *)PyUnicode_DATA(s);
        n = PyUnicode_GET_LENGTH(s);
    } else {
        p = (const unsigned char *)PyUnicode_AsUTF8AndSize(s, &n);
        if (p == NULL) { /* lone surrogates: the slow path writes them escaped */
            PyErr_Clear();
            return SLOW;
        }
    }
    return put_utf8(b, p, n);
}

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The first position from i on holding a byte JSON must escape (n if none). */
static Py_ssize_t safe_run(const unsigned char *p, Py_ssize_t i, Py_ssize_t n) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'),
                  control = _mm_set1_epi8(0x1F);
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
        /* max(v, 0x1F) == 0x1F exactly for the control bytes 0x00..0x1F */
        hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_max_epu8(v, control), control));
        unsigned mask = (unsigned)_mm_movemask_epi8(hit);
        if (mask != 0)
            return i + __builtin_ctz(mask);
    }
#endif
    while (i < n && ESCAPE[p[i]] == 0)
        i++;
    return i;
}

static int put_utf8(Buf *b, const unsigned char *p, Py_ssize_t n) {
    if (n > b->limit)
        return SLOW;
    /* Room for the string as is; escapes (rare) ask for more as they come. */
    int rc = buf_reserve(b, n + 2);
    if (rc != OK)
        return rc;
    b->data[b->len++] = '"';
    Py_ssize_t i = 0;
    while (i < n) {
        Py_ssize_t run = safe_run(p, i, n);
        memcpy(b->data + b->len, p + i, (size_t)(run - i));
        b->len += run - i;
        if (run == n)
            break;
        unsigned char c = p[run];
        /* The escape's extra bytes, plus room still kept for the rest of the string. */
        rc = buf_reserve(b, (ESCAPE[c] == 1 ? 2 : 6) + (n - run - 1) + 1);
        if (rc != OK)
            return rc;
        char *o = b->data + b->len;
        if (ESCAPE[c] == 1) {
            o[0] = '\\';
            o[1] = SHORT_ESCAPE[c];
            b->len += 2;
        } else {
            memcpy(o, "\\u00", 4);
            o[4] = HEX[c >> 4];
            o[5] = HEX[c & 15];
            b->len += 6;
        }
        i = run + 1;
    }
    b->data[b->len++] = '"';
    return b->len > b->limit ? SLOW : OK;
}

static int put_value(Buf *b, PyObject *v, int depth);

static int put_float(Buf *b, double d) {
    if (!isfinite(d))
        return PUT_LIT(b, "null"); /* what the Python path writes (inf_nan_mode="null") */
    char *text = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (text == NULL)
        return FAIL;
    int rc = buf_put(b, text, (Py_ssize_t)strlen(text));
    PyMem_Free(text);
    return rc;
}

/* Decimal digits of x into out (at least 21 bytes); returns the length. snprintf costs
 * more than the rest of a small step. */
static int format_ll(char *out, long long x) {
    char tmp[24];
    int n = 0;
    unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    int len = 0;
    if (x < 0)
        out[len++] = '-';
    while (n > 0)
        out[len++] = tmp[--n];
    return len;
}

static int put_int(Buf *b, PyObject *v) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow != 0)
        return SLOW;
    if (x == -1 && PyErr_Occurred())
        return FAIL;
    char text[24];
    return buf_put(b, text, format_ll(text, x));
}

static int put_sequence(Buf *b, PyObject *const *items, Py_ssize_t n, int depth) {
    int rc = PUT_LIT(b, "[");
    for (Py_ssize_t i = 0; rc == OK && i < n; i++) {
        if (i > 0)
            rc = PUT_LIT(b, ",");
        if (rc == OK)
            rc = put_value(b, items[i], depth + 1);
    }
    return rc == OK ? PUT_LIT(b, "]") : rc;
}

static int put_dict(Buf *b, PyObject *d, int depth) {
    int rc = PUT_LIT(b, "{");
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    int first = 1;
    while (rc == OK && PyDict_Next(d, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key))
            return SLOW; /* the Python path turns other keys into text */
        if (!first)
            rc = PUT_LIT(b, ",");
        first = 0;
        if (rc == OK)
            rc = put_string(b, key);
        if (rc == OK)
            rc = PUT_LIT(b, ":");
        if (rc == OK)
            rc = put_value(b, value, depth + 1);
    }
    return rc == OK ? PUT_LIT(b, "}") : rc;
}

static int put_value(Buf *b, PyObject *v, int depth) {
    if (depth > MAX_DEPTH)
        return SLOW; /* deep or circular: the Python path decides */
    if (v == Py_None)
        return PUT_LIT(b, "null");
    if (v == Py_True)
        return PUT_LIT(b, "true");
    if (v == Py_False)
        return PUT_LIT(b, "false");
    if (PyUnicode_CheckExact(v))
        return put_string(b, v);
    if (PyLong_CheckExact(v))
        return put_int(b, v);
    if (PyFloat_CheckExact(v))
        return put_float(b, PyFloat_AS_DOUBLE(v));
    if (PyDict_CheckExact(v))
        return put_dict(b, v, depth);
    if (PyList_CheckExact(v))
        return put_sequence(b, PySequence_Fast_ITEMS(v), PyList_GET_SIZE(v), depth);
    if (PyTuple_CheckExact(v))
        return put_sequence(b, PySequence_Fast_ITEMS(v), PyTuple_GET_SIZE(v), depth);
    return SLOW; /* paths, bytes, models, subclasses: the Python fallback converts them */
}

/* -- the secret pre-check --------------------------------------------------------------- */

typedef struct {
    unsigned char text[MAX_TRIGGER_LEN];
    Py_ssize_t len;
} Trigger;

static unsigned char LOWER[256];

static void init_lower(void) {
    for (int c = 0; c < 256; c++)
        LOWER[c] = (unsigned char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
}

/* UTF-8 lead bytes of the four non-ASCII letters that case-insensitive patterns match as
 * ASCII letters (U+0130 I, U+0131 i, U+017F s, U+212A K): a line holding one is scanned by
 * the full patterns, as the Python pre-check does. */
static const unsigned char SPECIAL_PAIRS[4][2] = {{0xC4, 0xB0}, {0xC4, 0xB1}, {0xC5, 0xBF},
                                                  {0xE2, 0x84}};

static int special_letter(const unsigned char *p, Py_ssize_t left) {
    if (left >= 2 && p[0] == 0xC4 && (p[1] == 0xB0 || p[1] == 0xB1))
        return 1;
    if (left >= 2 && p[0] == 0xC5 && p[1] == 0xBF)
        return 1;
    if (left >= 3 && p[0] == 0xE2 && p[1] == 0x84 && p[2] == 0xAA)
        return 1;
    return 0;
}

/* The pair table's key for the two bytes at p: both bytes with bit 0x20 set. Setting that bit
 * folds 'A'..'Z' onto 'a'..'z' as LOWER does (and merges some other bytes, which only makes
 * a key shared by more texts), so fold(LOWER(x)) == fold(x): a text holding a trigger in any
 * case has the trigger's key where the trigger starts. */
#define PAIR_KEY(a, b) (((unsigned)(a) | ((unsigned)(b) << 8)) | 0x2020u)
#define PAIR_TABLE_SIZE 65536
#define MAX_GROUPS 255 /* group ids are bytes; 0 is "no trigger starts with this pair" */

/* -- the writer type -------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    int fd;            /* -1: in memory only */
    /* Where the recorded lines are: those written to a regular file are read back from it
     * when asked for and when the trace ends — every complete line from after the header to
     * the file's current offset, so what the recorder shows is what the file holds, also
     * when a forked process wrote through the same descriptor. The others (no file, a pipe,
     * after a failed write, after the end) are kept in `mem`, with their newlines. Keeping
     * a copy of every line in memory cost more per step than serialising it: the fresh
     * pages it fills are zeroed by the kernel. */
    char *mem;
    Py_ssize_t mem_len, mem_cap, count;
    int in_file;          /* lines are in the (regular) file, not yet read back */
    long long file_first; /* where the step lines start: after the header */
    Py_ssize_t limit;  /* longest line the fast path writes */
    int scan;          /* 0: redaction off; 1: triggers below; 2: always the slow path */
    Py_ssize_t ntriggers;
    /* The triggers, sorted by the key of their first two bytes (PAIR_KEY); those sharing a
     * key form a group, triggers[group_start[g] .. group_start[g + 1]). */
    Trigger triggers[MAX_TRIGGERS];
    /* pair_group[PAIR_KEY(a, b)]: the group of the triggers whose first two bytes have that
     * key, 0 for none. One byte load per text position rules out most positions (a few
     * percent of English and code pairs start a trigger); only the triggers of the pair
     * found are compared. (With ~200 triggers the SIMD nibble filter this replaces let
     * more than half of all positions through, each verified against every trigger with
     * the same first byte: the pre-check cost more than the rest of a step.) 64 KiB, of
     * which ASCII text touches about 8. */
    uint8_t *pair_group;
    uint16_t group_start[MAX_GROUPS + 2];
    uint8_t group_special[MAX_GROUPS + 1]; /* the group is a special letter's first bytes */
    int closed;               /* the trace has ended: every emit() declines */
    long long stamp_sec;      /* the whole seconds last stamped, and their text */
    char stamp_sec_text[32];
    int stamp_sec_len;
    /* The recorder's state the bound step()/command() need, kept here so that a step is one
     * C call (the Python method around it was a fifth of a step): */
    Py_ssize_t next_index; /* the next step index (next(writer)) */
    PyObject *parent;      /* the innermost open span's index, or None */
    int fast;              /* the header is written and the trace not ended */
    PyObject *kinds;       /* the step kinds (a frozenset); others go to `declined` */
    PyObject *owner;       /* a weak reference to the recorder (no cycle) */
    PyObject *declined;    /* declined(recorder, call, index, args, exc): the Python path */
} StepWriter;

static unsigned trigger_key(const Trigger *t) { return PAIR_KEY(t->text[0], t->text[1]); }

static int trigger_cmp(const void *x, const void *y) {
    unsigned a = trigger_key(x), b = trigger_key(y);
    return a < b ? -1 : a > b;
}

/* Sort the triggers into groups by pair key and fill the pair table. 0 when there are more
 * groups than the table's bytes can name (the caller then scans every line in Python). */
static int index_triggers(StepWriter *w) {
    qsort(w->triggers, (size_t)w->ntriggers, sizeof(Trigger), trigger_cmp);
    unsigned groups = 0;
    for (Py_ssize_t t = 0; t < w->ntriggers; t++) {
        unsigned key = trigger_key(&w->triggers[t]);
        if (t == 0 || key != trigger_key(&w->triggers[t - 1])) {
            if (++groups > MAX_GROUPS - 4)
                return 0;
            w->pair_group[key] = (uint8_t)groups;
            w->group_start[groups] = (uint16_t)t;
            w->group_special[groups] = 0;
        }
    }
    w->group_start[groups + 1] = (uint16_t)w->ntriggers;
    for (int s = 0; s < 4; s++) { /* empty groups that look for the special letters */
        unsigned key = PAIR_KEY(SPECIAL_PAIRS[s][0], SPECIAL_PAIRS[s][1]);
        w->pair_group[key] = (uint8_t)++groups;
        w->group_special[groups] = 1;
        w->group_start[groups] = w->group_start[groups + 1] = (uint16_t)w->ntriggers;
    }
    return 1;
}

/* Does a trigger of group g (or a special letter) start at p[k]? Exact, with LOWER. */
static int verify_group(const StepWriter *w, const unsigned char *p, Py_ssize_t n,
                        Py_ssize_t k, unsigned g) {
    if (w->group_special[g])
        return special_letter(p + k, n - k);
    for (Py_ssize_t t = w->group_start[g]; t < w->group_start[g + 1]; t++) {
        const Trigger *tr = &w->triggers[t];
        if (tr->len > n - k)
            continue;
        Py_ssize_t m = 0;
        while (m < tr->len && LOWER[p[k + m]] == tr->text[m])
            m++;
        if (m == tr->len)
            return 1;
    }
    return 0;
}

/* Positions start..n-2, one at a time. */
static int scan_positions(const StepWriter *w, const unsigned char *p, Py_ssize_t n,
                          Py_ssize_t start, Py_ssize_t stop) {
    const uint8_t *table = w->pair_group;
    for (Py_ssize_t i = start; i < stop && i + 1 < n; i++) {
        unsigned g = table[PAIR_KEY(p[i], p[i + 1])];
        if (g != 0 && verify_group(w, p, n, i, g))
            return 1;
    }
    return 0;
}

/* The pair-table scan, eight positions per branch: the lookups of a block are independent,
 * and a block none of whose pairs starts a trigger (most of them) costs one test. */
static int scan_pairs(const StepWriter *w, const unsigned char *p, Py_ssize_t n) {
    const uint8_t *table = w->pair_group;
    Py_ssize_t i = 0;
    for (; i + 9 <= n; i += 8) {
        uint8_t group[8];
        unsigned any = 0;
        for (int j = 0; j < 8; j++) {
            group[j] = table[PAIR_KEY(p[i + j], p[i + j + 1])];
            any |= group[j];
        }
        if (any == 0)
            continue;
        for (int j = 0; j < 8; j++)
            if (group[j] != 0 && verify_group(w, p, n, i + j, group[j]))
                return 1;
    }
    return scan_positions(w, p, n, i, n);
}

/* The reference the pair scan is tested against: every trigger compared at every position. */
static int scan_naive(const StepWriter *w, const unsigned char *p, Py_ssize_t n) {
    for (Py_ssize_t k = 0; k < n; k++) {
        if (special_letter(p + k, n - k))
            return 1;
        for (Py_ssize_t t = 0; t < w->ntriggers; t++) {
            const Trigger *tr = &w->triggers[t];
            Py_ssize_t m = 0;
            while (m < tr->len && k + m < n && LOWER[p[k + m]] == tr->text[m])
                m++;
            if (m == tr->len)
                return 1;
        }
    }
    return 0;
}

/* 1 when the line may hold a secret (a trigger, or a letter that folds to ASCII).
 * fast = 0: the naive reference scan, for tests. */
static int might_contain(const StepWriter *w, const unsigned char *p, Py_ssize_t n, int fast) {
    if (w->scan == 0)
        return 0;
    if (w->scan == 2)
        return 1;
    return fast ? scan_pairs(w, p, n) : scan_naive(w, p, n);
}

static int write_all(int fd, const char *data, Py_ssize_t n) {
    while (n > 0) {
        ssize_t done = write(fd, data, (size_t)n);
        if (done < 0) {
            if (errno == EINTR)
                continue; /* handlers run after the call: a line is never left half-written */
            PyErr_SetFromErrno(PyExc_OSError);
            return -1;
        }
        data += done;
        n -= done;
    }
    return 0;
}

static int StepWriter_init(StepWriter *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"fd", "limit", "triggers", "redact", NULL};
    int fd;
    Py_ssize_t limit;
    PyObject *triggers;
    int redact;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "inOp", kwlist, &fd, &limit, &triggers,
                                     &redact))
        return -1;
    self->fd = fd;
    self->closed = 0;
    self->next_index = 0;
    self->fast = 0;
    Py_INCREF(Py_None);
    Py_XSETREF(self->parent, Py_None);
    self->stamp_sec_len = 0;
    self->limit = limit < 0 ? 0 : (limit > PY_SSIZE_T_MAX / 8 ? PY_SSIZE_T_MAX / 8 : limit);
    PyMem_Free(self->mem);
    self->mem = NULL;
    self->mem_len = self->mem_cap = self->count = 0;
    self->file_first = 0;
    struct stat st;
    self->in_file = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    self->ntriggers = 0;
    PyMem_Free(self->pair_group);
    self->pair_group = NULL;
    if (!redact) {
        self->scan = 0;
        return 0;
    }
    if (triggers == Py_None) {
        self->scan = 2; /* patterns without triggers: every line goes through them */
        return 0;
    }
    PyObject *seq = PySequence_Fast(triggers, "triggers must be a sequence of str");
    if (seq == NULL)
        return -1;
    self->scan = 1;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        Py_ssize_t n;
        const char *text = PyUnicode_Check(item) ? PyUnicode_AsUTF8AndSize(item, &n) : NULL;
        if (text == NULL) {
            Py_DECREF(seq);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "triggers must be str");
            return -1;
        }
        int ascii = 1;
        for (Py_ssize_t k = 0; k < n; k++)
            ascii &= (unsigned char)text[k] < 0x80 && LOWER[(unsigned char)text[k]] ==
                     (unsigned char)text[k];
        if (n < 2 || n > MAX_TRIGGER_LEN || !ascii || self->ntriggers >= MAX_TRIGGERS) {
            self->scan = 2; /* a trigger this scanner cannot hold: be safe, scan in Python */
            break;
        }
        Trigger *tr = &self->triggers[self->ntriggers++];
        memcpy(tr->text, text, (size_t)n);
        tr->len = n;
    }
    Py_DECREF(seq);
    if (self->scan != 1)
        return 0;
    self->pair_group = PyMem_Calloc(PAIR_TABLE_SIZE, 1);
    if (self->pair_group == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (!index_triggers(self))
        self->scan = 2; /* more first pairs than the table can name: scan in Python */
    return 0;
}

static void StepWriter_dealloc(StepWriter *self) {
    PyMem_Free(self->mem);
    PyMem_Free(self->pair_group);
    Py_XDECREF(self->parent);
    Py_XDECREF(self->kinds);
    Py_XDECREF(self->owner);
    Py_XDECREF(self->declined);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Keep `n` bytes (a line and its newline) in memory. */
static int keep(StepWriter *self, const char *data, Py_ssize_t n) {
    if (n == 0)
        return 0; /* nothing to keep, and mem may still be NULL (memcpy to NULL is UB) */
    if (n > self->mem_cap - self->mem_len) {
        Py_ssize_t cap = self->mem_cap < 65536 ? 65536 : self->mem_cap;
        while (cap - self->mem_len < n) {
            if (cap > PY_SSIZE_T_MAX / 2) {
                PyErr_NoMemory();
                return -1;
            }
            cap *= 2;
        }
        char *p = PyMem_Realloc(self->mem, (size_t)cap);
        if (p == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        self->mem = p;
        self->mem_cap = cap;
    }
    memcpy(self->mem + self->mem_len, data, (size_t)n);
    self->mem_len += n;
    return 0;
}

/* Record one line (`n` bytes ending with its newline): written to the file, or kept. */
static int store(StepWriter *self, const char *data, Py_ssize_t n) {
    if (self->fd >= 0) {
        if (write_all(self->fd, data, n) < 0) {
            /* Keep what the file did not get; the caller detaches and warns. */
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            int kept = keep(self, data, n);
            PyErr_Restore(type, value, tb);
            if (kept == 0)
                self->count++;
            return -1;
        }
        self->count++;
        if (self->in_file)
            return 0;
    }
    if (keep(self, data, n) < 0)
        return -1;
    self->count++;
    return 0;
}

/* Record the line in `b` with its newline. */
static int record_line(StepWriter *self, Buf *b) {
    b->data[b->len] = '\n'; /* buf_reserve kept room past the limit for this byte */
    return store(self, b->data, b->len + 1);
}

/* The complete lines between the header and the file's current offset (a new buffer the
 * caller frees). A partial last line — a write that failed half-way — is left out. */
static char *read_back(StepWriter *self, Py_ssize_t *size) {
    *size = 0;
    off_t end = lseek(self->fd, 0, SEEK_CUR);
    if (end < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return NULL;
    }
    Py_ssize_t n = end > self->file_first ? (Py_ssize_t)(end - self->file_first) : 0;
    char *out = PyMem_Malloc(n > 0 ? (size_t)n : 1);
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    Py_ssize_t got = 0;
    while (got < n) {
        ssize_t r = pread(self->fd, out + got, (size_t)(n - got), (off_t)(self->file_first + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            PyErr_SetFromErrno(PyExc_OSError);
            PyMem_Free(out);
            return NULL;
        }
        if (r == 0)
            break; /* truncated by someone else meanwhile: what is left */
        got += r;
    }
    while (got > 0 && out[got - 1] != '\n')
        got--;
    *size = got;
    return out;
}

/* Move the lines in the file into memory, before the file is closed. */
static int absorb(StepWriter *self) {
    if (self->fd < 0 || !self->in_file)
        return 0;
    Py_ssize_t n;
    char *back = read_back(self, &n);
    self->in_file = 0; /* from now on lines are kept in memory */
    if (back == NULL)
        return -1;
    char *rest = self->mem;
    Py_ssize_t rest_len = self->mem_len;
    self->mem = NULL;
    self->mem_len = self->mem_cap = 0;
    int rc = keep(self, back, n);
    if (rc == 0 && rest_len > 0)
        rc = keep(self, rest, rest_len);
    PyMem_Free(back);
    PyMem_Free(rest);
    return rc;
}

/* The time now as seconds with microseconds, "1764032400.123456" without trailing zeros: the
 * value the Python path writes (round(time.time(), 6)), formatted without the cost of a
 * shortest-repr conversion, which was a third of a step's time. */
static Py_ssize_t format_now(StepWriter *self, char *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long micros = (long long)ts.tv_sec * 1000000LL + (ts.tv_nsec + 500) / 1000;
    long long sec = micros / 1000000LL;
    if (sec != self->stamp_sec || self->stamp_sec_len == 0) { /* once a second */
        self->stamp_sec = sec;
        self->stamp_sec_len = format_ll(self->stamp_sec_text, sec);
        self->stamp_sec_text[self->stamp_sec_len++] = '.';
    }
    int n = self->stamp_sec_len;
    memcpy(out, self->stamp_sec_text, (size_t)n);
    long frac = (long)(micros % 1000000LL);
    char digits[6];
    for (int k = 5; k >= 0; k--) {
        digits[k] = (char)('0' + frac % 10);
        frac /= 10;
    }
    int last = 5;
    while (last > 0 && digits[last] == '0')
        last--;
    memcpy(out + n, digits, (size_t)last + 1);
    return n + last + 1;
}

#define PUT_KEY(b, key) PUT_LIT((b), ",\"" key "\":")

/* The fields after input and output, then the pre-check and the write.
 * rc: what serialising the first fields gave. Returns Py_True, Py_False or NULL. */
static PyObject *finish_step(StepWriter *self, Buf *b, int rc, PyObject *error, PyObject *meta,
                             PyObject *started_at, PyObject *ended_at, PyObject *parent) {
    char stamp[48];
    Py_ssize_t stamp_len = 0;
    PyObject *times[2] = {started_at, ended_at};
    for (int i = 0; i < 2 && rc == OK; i++) {
        PyObject *t = times[i];
        rc = i == 0 ? PUT_KEY(b, "started_at") : PUT_KEY(b, "ended_at");
        if (rc != OK)
            break;
        if (t == Py_None) {
            if (stamp_len == 0)
                stamp_len = format_now(self, stamp);
            rc = buf_put(b, stamp, stamp_len);
        } else if (PyFloat_CheckExact(t)) {
            rc = put_float(b, PyFloat_AS_DOUBLE(t));
        } else if (PyLong_CheckExact(t)) {
            rc = put_int(b, t);
        } else {
            rc = SLOW;
        }
    }
    if (rc == OK && error != Py_None) {
        rc = PyUnicode_CheckExact(error) ? PUT_KEY(b, "error") : SLOW;
        if (rc == OK)
            rc = put_string(b, error);
    }
    if (rc == OK && parent != Py_None) {
        rc = PyLong_CheckExact(parent) ? PUT_KEY(b, "parent") : SLOW;
        if (rc == OK)
            rc = put_int(b, parent);
    }
    if (rc == OK && meta != Py_None) {
        if (!PyDict_CheckExact(meta))
            rc = SLOW;
        else if (PyDict_GET_SIZE(meta) > 0) {
            rc = PUT_KEY(b, "meta");
            if (rc == OK)
                rc = put_dict(b, meta, 1);
        }
    }
    if (rc == OK)
        rc = PUT_LIT(b, "}");
    if (rc == OK && b->len > self->limit)
        rc = SLOW;
    if (rc == OK && might_contain(self, (const unsigned char *)b->data, b->len, 1))
        rc = SLOW;
    if (rc == OK)
        rc = buf_reserve(b, 1) == FAIL ? FAIL : OK; /* the newline: always within limit + 8 */
    if (rc == OK && record_line(self, b) < 0)
        rc = FAIL;
    buf_free(b);
    if (rc == FAIL)
        return NULL;
    return PyBool_FromLong(rc == OK);
}

static int put_head(Buf *b, PyObject *index, const char *kind_json, Py_ssize_t kind_len) {
    int rc = PUT_LIT(b, "{\"type\":\"step\",\"index\":");
    if (rc == OK)
        rc = put_int(b, index);
    if (rc == OK)
        rc = PUT_KEY(b, "kind");
    if (rc == OK)
        rc = buf_put(b, kind_json, kind_len);
    return rc;
}

/* emit(index, kind, name, input, output, error, meta, started_at, ended_at, parent) -> bool
 *
 * Serialises the step as the Python recorder does (same keys, same order) and, when the fast
 * path applies, appends it to `lines` and writes it. False: nothing done, take the slow path.
 * Raises OSError when the write fails (the line is already in `lines`). */
static PyObject *StepWriter_emit(StepWriter *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 10) {
        PyErr_SetString(PyExc_TypeError, "emit() takes 10 arguments");
        return NULL;
    }
    if (self->closed || !PyLong_CheckExact(args[0]) || !PyUnicode_CheckExact(args[1]) ||
        !PyUnicode_CheckExact(args[2]))
        Py_RETURN_FALSE;
    Buf b;
    buf_init(&b, self->limit);
    int rc = PUT_LIT(&b, "{\"type\":\"step\",\"index\":");
    if (rc == OK)
        rc = put_int(&b, args[0]);
    static const Lit keys[] = {LIT(",\"kind\":"), LIT(",\"name\":"), LIT(",\"input\":"),
                               LIT(",\"output\":")};
    for (int i = 0; i < 4 && rc == OK; i++) {
        rc = buf_put(&b, keys[i].text, keys[i].len);
        if (rc == OK)
            rc = put_value(&b, args[i + 1], 1);
    }
    return finish_step(self, &b, rc, args[5], args[6], args[7], args[8], args[9]);
}

/* emit_command(index, command, exit_code, stdout, stderr, cwd, timed_out, started_at, ended_at,
 *              name, parent) -> bool
 *
 * TraceRecorder.command() without building its two dicts first: the same line as
 * emit(index, "command", name or command.split(" ", 1)[0] or "command",
 *      {"command": command[, "cwd": cwd]},
 *      {"exit_code": ..., "stdout": ..., "stderr": ..., "timed_out": ...}, ...). */
static PyObject *StepWriter_emit_command(StepWriter *self, PyObject *const *args,
                                         Py_ssize_t nargs) {
    if (nargs != 11) {
        PyErr_SetString(PyExc_TypeError, "emit_command() takes 11 arguments");
        return NULL;
    }
    PyObject *command = args[1], *cwd = args[5], *name = args[9];
    if (self->closed || !PyLong_CheckExact(args[0]) || !PyUnicode_CheckExact(command) ||
        (cwd != Py_None && !PyUnicode_CheckExact(cwd)) ||
        (name != Py_None && !PyUnicode_CheckExact(name)))
        Py_RETURN_FALSE;
    Buf b;
    buf_init(&b, self->limit);
    int rc = put_head(&b, args[0], "\"command\"", 9);
    if (rc == OK)
        rc = PUT_KEY(&b, "name");
    if (rc == OK) {
        if (name != Py_None && PyUnicode_GET_LENGTH(name) > 0) {
            rc = put_string(&b, name);
        } else {
            Py_ssize_t n;
            const char *text = PyUnicode_AsUTF8AndSize(command, &n);
            if (text == NULL) {
                PyErr_Clear();
                rc = SLOW;
            } else {
                const char *space = memchr(text, ' ', (size_t)n);
                Py_ssize_t first = space == NULL ? n : space - text;
                rc = first > 0 ? put_utf8(&b, (const unsigned char *)text, first)
                               : PUT_LIT(&b, "\"command\"");
            }
        }
    }
    if (rc == OK)
        rc = PUT_LIT(&b, ",\"input\":{\"command\":");
    if (rc == OK)
        rc = put_string(&b, command);
    if (rc == OK && cwd != Py_None) {
        rc = PUT_KEY(&b, "cwd");
        if (rc == OK)
            rc = put_string(&b, cwd);
    }
    static const Lit keys[] = {LIT("},\"output\":{\"exit_code\":"), LIT(",\"stdout\":"),
                               LIT(",\"stderr\":"), LIT(",\"timed_out\":")};
    for (int i = 0; i < 4 && rc == OK; i++) {
        rc = buf_put(&b, keys[i].text, keys[i].len);
        if (rc == OK)
            rc = put_value(&b, args[i == 3 ? 6 : 2 + i], 1);
    }
    if (rc == OK)
        rc = PUT_LIT(&b, "}");
    return finish_step(self, &b, rc, Py_None, Py_None, args[7], args[8], args[10]);
}

/* record(line): append a line the Python path made, and write it. */
static PyObject *StepWriter_record(StepWriter *self, PyObject *line) {
    if (!PyBytes_Check(line)) {
        PyErr_SetString(PyExc_TypeError, "record() takes bytes");
        return NULL;
    }
    Py_ssize_t n = PyBytes_GET_SIZE(line);
    const char *data = PyBytes_AS_STRING(line);
    if (memchr(data, '\n', (size_t)n) != NULL) {
        PyErr_SetString(PyExc_ValueError, "a trace line cannot hold a newline");
        return NULL;
    }
    char *copy = PyMem_Malloc((size_t)n + 1);
    if (copy == NULL)
        return PyErr_NoMemory();
    memcpy(copy, data, (size_t)n);
    copy[n] = '\n';
    int rc = store(self, copy, n + 1);
    PyMem_Free(copy);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* write(data): write bytes that are not a step (the header, the end record). */
static PyObject *StepWriter_write(StepWriter *self, PyObject *data) {
    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "write() takes bytes");
        return NULL;
    }
    Py_ssize_t n = PyBytes_GET_SIZE(data);
    if (self->fd >= 0) {
        if (write_all(self->fd, PyBytes_AS_STRING(data), n) < 0)
            return NULL;
        if (self->count == 0) /* the header: step lines start after it */
            self->file_first += n;
    }
    Py_RETURN_NONE;
}

/* close(final=None): the trace has ended. The lines in the file are read back into memory,
 * then `final` (the end record) is written; the caller closes the file next. Every later
 * emit() declines and nothing more is written. */
static PyObject *StepWriter_close(StepWriter *self, PyObject *const *args, Py_ssize_t nargs) {
    PyObject *final = nargs > 0 ? args[0] : Py_None;
    if (nargs > 1 || (final != Py_None && !PyBytes_Check(final))) {
        PyErr_SetString(PyExc_TypeError, "close() takes one optional bytes argument");
        return NULL;
    }
    int rc = absorb(self);
    if (rc == 0 && final != Py_None && self->fd >= 0)
        rc = write_all(self->fd, PyBytes_AS_STRING(final), PyBytes_GET_SIZE(final));
    self->closed = 1;
    self->fd = -1;
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* seal(): the trace is ending; every later emit() declines (write() still works, for the end
 * record). */
static PyObject *StepWriter_seal(StepWriter *self, PyObject *Py_UNUSED(ignored)) {
    self->closed = 1;
    Py_RETURN_NONE;
}

static PyObject *StepWriter_get_sealed(StepWriter *self, void *Py_UNUSED(closure)) {
    return PyBool_FromLong(self->closed);
}

/* detach(): stop writing (a write failed; the caller closes the file). The lines already in
 * the file are read back into memory, later ones are kept there. */
static PyObject *StepWriter_detach(StepWriter *self, PyObject *Py_UNUSED(ignored)) {
    int rc = absorb(self);
    self->fd = -1;
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* might_contain(data, simd=True): the secret pre-check on its own, for tests. */
static PyObject *StepWriter_might_contain(StepWriter *self, PyObject *args) {
    Py_buffer view;
    int simd = 1;
    if (!PyArg_ParseTuple(args, "y*|p", &view, &simd))
        return NULL;
    int hit = might_contain(self, (const unsigned char *)view.buf, view.len, simd);
    PyBuffer_Release(&view);
    return PyBool_FromLong(hit);
}

static int split_into(PyObject *out, const char *data, Py_ssize_t n) {
    Py_ssize_t start = 0;
    while (start < n) {
        const char *end = memchr(data + start, '\n', (size_t)(n - start));
        Py_ssize_t stop = end == NULL ? n : end - data;
        PyObject *line = PyBytes_FromStringAndSize(data + start, stop - start);
        if (line == NULL || PyList_Append(out, line) < 0) {
            Py_XDECREF(line);
            return -1;
        }
        Py_DECREF(line);
        start = stop + 1;
    }
    return 0;
}

static PyObject *StepWriter_get_lines(StepWriter *self, void *Py_UNUSED(closure)) {
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    if (self->fd >= 0 && self->in_file) {
        Py_ssize_t n;
        char *back = read_back(self, &n);
        int rc = back == NULL ? -1 : split_into(out, back, n);
        PyMem_Free(back);
        if (rc < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    if (split_into(out, self->mem, self->mem_len) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

static PyObject *StepWriter_get_count(StepWriter *self, void *Py_UNUSED(closure)) {
    return PyLong_FromSsize_t(self->count);
}

static PyObject *StepWriter_get_fd(StepWriter *self, void *Py_UNUSED(closure)) {
    return PyLong_FromLong(self->fd);
}

/* -- step() and command() with the recorder's signatures --------------------------------- */

/* Fill `slots` (defaults already in them) from a vectorcall: `npos` leading positional
 * parameters of which `required` must be given, the rest keyword-only, as in Python. */
static int parse_call(const char *fname, PyObject *const *args, size_t nargsf, PyObject *kwnames,
                      PyObject *const *names, Py_ssize_t nslots, Py_ssize_t npos,
                      Py_ssize_t required, PyObject **slots) {
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs > npos) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd positional arguments but %zd were given",
                     fname, npos, nargs);
        return -1;
    }
    int given[16] = {0};
    for (Py_ssize_t i = 0; i < nargs; i++) {
        slots[i] = args[i];
        given[i] = 1;
    }
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        Py_ssize_t slot = -1;
        for (Py_ssize_t j = 0; j < nslots && slot < 0; j++)
            if (key == names[j])
                slot = j; /* keywords at call sites are interned: the usual case */
        for (Py_ssize_t j = 0; j < nslots && slot < 0; j++) {
            int eq = PyUnicode_Compare(key, names[j]);
            if (eq == -1 && PyErr_Occurred())
                return -1;
            if (eq == 0)
                slot = j;
        }
        if (slot < 0) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%S'", fname,
                         key);
            return -1;
        }
        if (given[slot]) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%S'", fname,
                         key);
            return -1;
        }
        slots[slot] = args[nargs + k];
        given[slot] = 1;
    }
    for (Py_ssize_t j = 0; j < required; j++)
        if (!given[j]) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument: '%S'", fname,
                         names[j]);
            return -1;
        }
    return 0;
}

static PyObject *STEP_NAMES[9], *COMMAND_NAMES[9], *STEP_CALL, *COMMAND_CALL;

/* Hand the call to the recorder's Python path: declined(recorder, call, index, args, exc).
 * `index` is None when nothing was allocated yet (the kind is not a plain known one). */
static PyObject *decline(StepWriter *self, PyObject *call, PyObject *index, PyObject **slots,
                         Py_ssize_t nslots, PyObject *exc) {
    if (self->owner == NULL || self->declined == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "StepWriter: bind() was not called");
        Py_XDECREF(exc);
        return NULL;
    }
    PyObject *owner = PyObject_CallNoArgs(self->owner);
    PyObject *tuple = PyTuple_New(nslots);
    PyObject *result = NULL;
    if (owner != NULL && tuple != NULL) {
        for (Py_ssize_t i = 0; i < nslots; i++) {
            Py_INCREF(slots[i]);
            PyTuple_SET_ITEM(tuple, i, slots[i]);
        }
        PyObject *argv[5] = {owner, call, index, tuple, exc != NULL ? exc : Py_None};
        result = PyObject_Vectorcall(self->declined, argv, 5, NULL);
    }
    Py_XDECREF(owner);
    Py_XDECREF(tuple);
    Py_XDECREF(exc);
    return result;
}

/* What an emit gave (False too when the fast path is closed): True -> the index; False ->
 * the Python path; an OSError -> the Python path reports it (the line is already kept). */
static PyObject *emitted(StepWriter *self, PyObject *done, PyObject *call, PyObject *index,
                         PyObject **slots, Py_ssize_t nslots) {
    if (done == Py_True) {
        Py_DECREF(done);
        return index; /* the reference we held */
    }
    PyObject *exc = NULL;
    if (done == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_OSError)) {
            Py_DECREF(index);
            return NULL;
        }
        PyObject *type, *tb;
        PyErr_Fetch(&type, &exc, &tb);
        PyErr_NormalizeException(&type, &exc, &tb);
        if (exc != NULL && tb != NULL)
            PyException_SetTraceback(exc, tb);
        Py_XDECREF(type);
        Py_XDECREF(tb);
    } else {
        Py_DECREF(done);
    }
    PyObject *result = decline(self, call, index, slots, nslots, exc);
    Py_DECREF(index);
    return result;
}

static PyObject *take_index(StepWriter *self) {
    return PyLong_FromSsize_t(self->next_index++);
}

/* step(kind, name, *, input=None, output=None, error=None, meta=None, started_at=None,
 *      ended_at=None, parent=None) -> index: TraceRecorder.step in one call. */
static PyObject *StepWriter_step(StepWriter *self, PyObject *const *args, size_t nargsf,
                                 PyObject *kwnames) {
    PyObject *slots[9] = {NULL, NULL, Py_None, Py_None, Py_None, Py_None, Py_None, Py_None,
                          Py_None};
    if (parse_call("step", args, nargsf, kwnames, STEP_NAMES, 9, 2, 2, slots) < 0)
        return NULL;
    int known = self->kinds != NULL && PyUnicode_CheckExact(slots[0]);
    if (known) {
        known = PySet_Contains(self->kinds, slots[0]);
        if (known < 0)
            return NULL;
    }
    if (!known) /* the Python path raises for an unknown kind, before taking an index */
        return decline(self, STEP_CALL, Py_None, slots, 9, NULL);
    if (slots[8] == Py_None && self->parent != NULL)
        slots[8] = self->parent;
    PyObject *index = take_index(self);
    if (index == NULL)
        return NULL;
    PyObject *argv[10] = {index, slots[0], slots[1], slots[2], slots[3], slots[4], slots[5],
                          slots[6], slots[7], slots[8]};
    PyObject *done = self->fast ? StepWriter_emit(self, argv, 10) : Py_NewRef(Py_False);
    return emitted(self, done, STEP_CALL, index, slots, 9);
}

/* command(command, *, exit_code=None, stdout="", stderr="", cwd=None, timed_out=False,
 *         started_at=None, ended_at=None, name=None) -> index: TraceRecorder.command. */
static PyObject *StepWriter_command(StepWriter *self, PyObject *const *args, size_t nargsf,
                                    PyObject *kwnames) {
    static PyObject *empty = NULL;
    if (empty == NULL && (empty = PyUnicode_New(0, 0)) == NULL)
        return NULL;
    PyObject *slots[9] = {NULL, Py_None, empty, empty, Py_None, Py_False, Py_None, Py_None,
                          Py_None};
    if (parse_call("command", args, nargsf, kwnames, COMMAND_NAMES, 9, 1, 1, slots) < 0)
        return NULL;
    PyObject *index = take_index(self);
    if (index == NULL)
        return NULL;
    PyObject *argv[11] = {index, slots[0], slots[1], slots[2], slots[3], slots[4], slots[5],
                          slots[6], slots[7], slots[8],
                          self->parent != NULL ? self->parent : Py_None};
    PyObject *done = self->fast ? StepWriter_emit_command(self, argv, 11) : Py_NewRef(Py_False);
    return emitted(self, done, COMMAND_CALL, index, slots, 9);
}

/* bind(owner, declined, kinds): the recorder (held weakly) and its Python path. */
static PyObject *StepWriter_bind(StepWriter *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyCallable_Check(args[1]) || !PyFrozenSet_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "bind(owner, declined, kinds: frozenset)");
        return NULL;
    }
    PyObject *ref = PyWeakref_NewRef(args[0], NULL);
    if (ref == NULL)
        return NULL;
    Py_XSETREF(self->owner, ref);
    Py_INCREF(args[1]);
    Py_XSETREF(self->declined, args[1]);
    Py_INCREF(args[2]);
    Py_XSETREF(self->kinds, args[2]);
    Py_RETURN_NONE;
}

static PyObject *StepWriter_iternext(StepWriter *self) {
    return take_index(self);
}

static PyObject *StepWriter_get_parent(StepWriter *self, void *Py_UNUSED(closure)) {
    PyObject *parent = self->parent != NULL ? self->parent : Py_None;
    Py_INCREF(parent);
    return parent;
}

static int StepWriter_set_parent(StepWriter *self, PyObject *value, void *Py_UNUSED(closure)) {
    if (value == NULL || (value != Py_None && !PyLong_Check(value))) {
        PyErr_SetString(PyExc_TypeError, "parent must be an int or None");
        return -1;
    }
    Py_INCREF(value);
    Py_XSETREF(self->parent, value);
    return 0;
}

static PyObject *StepWriter_get_fast(StepWriter *self, void *Py_UNUSED(closure)) {
    return PyBool_FromLong(self->fast);
}

static int StepWriter_set_fast(StepWriter *self, PyObject *value, void *Py_UNUSED(closure)) {
    int truth = value == NULL ? -1 : PyObject_IsTrue(value);
    if (truth < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "fast cannot be deleted");
        return -1;
    }
    self->fast = truth;
    return 0;
}

static PyMethodDef StepWriter_methods[] = {
    {"step", (PyCFunction)(void (*)(void))StepWriter_step, METH_FASTCALL | METH_KEYWORDS,
     "TraceRecorder.step in one call (see the recorder)."},
    {"command", (PyCFunction)(void (*)(void))StepWriter_command,
     METH_FASTCALL | METH_KEYWORDS, "TraceRecorder.command in one call (see the recorder)."},
    {"bind", (PyCFunction)(void (*)(void))StepWriter_bind, METH_FASTCALL,
     "Bind the recorder (weakly) and its Python path for declined calls."},
    {"emit", (PyCFunction)(void (*)(void))StepWriter_emit, METH_FASTCALL,
     "Record a step on the fast path; False means take the slow path."},
    {"emit_command", (PyCFunction)(void (*)(void))StepWriter_emit_command, METH_FASTCALL,
     "Record a command step on the fast path; False means take the slow path."},
    {"record", (PyCFunction)StepWriter_record, METH_O, "Append and write a finished line."},
    {"close", (PyCFunction)(void (*)(void))StepWriter_close, METH_FASTCALL,
     "The trace has ended: read the lines back, then write the end record."},
    {"seal", (PyCFunction)StepWriter_seal, METH_NOARGS, "Decline every later emit()."},
    {"write", (PyCFunction)StepWriter_write, METH_O, "Write bytes that are not a step."},
    {"detach", (PyCFunction)StepWriter_detach, METH_NOARGS, "Stop writing to the file."},
    {"might_contain", (PyCFunction)StepWriter_might_contain, METH_VARARGS,
     "The secret pre-check on a serialised line."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef StepWriter_getset[] = {
    {"lines", (getter)StepWriter_get_lines, NULL,
     "Every recorded line (bytes, no newline), in write order: a new list each time.", NULL},
    {"count", (getter)StepWriter_get_count, NULL, "How many lines were recorded.", NULL},
    {"sealed", (getter)StepWriter_get_sealed, NULL, "Whether emit() declines everything.", NULL},
    {"fd", (getter)StepWriter_get_fd, NULL, "The file descriptor, -1 when detached.", NULL},
    {"parent", (getter)StepWriter_get_parent, (setter)StepWriter_set_parent,
     "The parent of steps recorded now (the innermost open span), or None.", NULL},
    {"fast", (getter)StepWriter_get_fast, (setter)StepWriter_set_fast,
     "Whether step()/command() may take the fast path.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject StepWriterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pytest_tracebench.record._steplog.StepWriter",
    .tp_basicsize = sizeof(StepWriter),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Appends a trace's step lines to its file; see the module docstring.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)StepWriter_init,
    .tp_dealloc = (destructor)StepWriter_dealloc,
    .tp_methods = StepWriter_methods,
    .tp_getset = StepWriter_getset,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)StepWriter_iternext,
};

static struct PyModuleDef steplog_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pytest_tracebench.record._steplog",
    .m_doc = "The recorder's fast path: serialise, pre-check for secrets and write a step.",
    .m_size = -1,
};

static int intern_names(PyObject **out, const char *const *names, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        if ((out[i] = PyUnicode_InternFromString(names[i])) == NULL)
            return -1;
    return 0;
}

PyMODINIT_FUNC PyInit__steplog(void) {
    init_escape_tables();
    init_lower();
    static const char *const step_names[9] = {"kind", "name", "input", "output", "error",
                                              "meta", "started_at", "ended_at", "parent"};
    static const char *const command_names[9] = {"command", "exit_code", "stdout", "stderr",
                                                 "cwd", "timed_out", "started_at", "ended_at",
                                                 "name"};
    if (intern_names(STEP_NAMES, step_names, 9) < 0 ||
        intern_names(COMMAND_NAMES, command_names, 9) < 0 ||
        (STEP_CALL = PyUnicode_InternFromString("step")) == NULL ||
        (COMMAND_CALL = PyUnicode_InternFromString("command")) == NULL)
        return NULL;
    if (PyType_Ready(&StepWriterType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&steplog_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&StepWriterType);
    if (PyModule_AddObject(m, "StepWriter", (PyObject *)&StepWriterType) < 0) {
        Py_DECREF(&StepWriterType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
