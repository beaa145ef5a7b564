/* _steplog: the recorder's step encoder, in one native pass.
 *
 * Why this exists: recording a step has to build the step's JSON line and check it for secrets
 * before the recorder appends it to the trace file with one write() system call. In Python
 * that costs about 20x the write itself, most of it in the secret pre-check (a substring
 * search per trigger over the lowercased line). Here the line is serialised and scanned in
 * one call.
 *
 * The encoder is stateless: encode_step() and encode_command() take the step's values, the
 * compiled secret triggers and the size limit, and return the finished line (with its
 * newline) or None. write_step() and write_command() do the same and also write the line,
 * in the same call, to a sink the recorder owns and passes in (see "the sink" below): one
 * call per step, the GIL held throughout. The recorder (record/recorder.py) keeps
 * everything: the step index, the current parent, the file, the sink, and the Python path
 * for what the encoder declines. Nothing is kept here between calls.
 *
 * The encoder only handles the common case and says so: plain dict/list/tuple/str/int/
 * float/bool/None values, no secret trigger in the line, the line under the size limit. In
 * every other case it returns None, and the recorder takes its full Python path (redaction,
 * truncation, the JSON fallback for other objects). The Python path is the specification:
 * tests compare both on the same steps.
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

/* -- the compiled triggers ---------------------------------------------------------------- */

/* A set of secret triggers compiled for the scan: immutable once built, shared by every
 * recorder with the same redactor rules (record/_stepwriter.compile_triggers caches it). */
typedef struct {
    PyObject_HEAD
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
} Triggers;

static unsigned trigger_key(const Trigger *t) { return PAIR_KEY(t->text[0], t->text[1]); }

static int trigger_cmp(const void *x, const void *y) {
    unsigned a = trigger_key(x), b = trigger_key(y);
    return a < b ? -1 : a > b;
}

/* Sort the triggers into groups by pair key and fill the pair table. 0 when there are more
 * groups than the table's bytes can name (Triggers() then refuses them). */
static int index_triggers(Triggers *w) {
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
static int verify_group(const Triggers *w, const unsigned char *p, Py_ssize_t n,
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
static int scan_positions(const Triggers *w, const unsigned char *p, Py_ssize_t n,
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
static int scan_pairs(const Triggers *w, const unsigned char *p, Py_ssize_t n) {
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
static int scan_naive(const Triggers *w, const unsigned char *p, Py_ssize_t n) {
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

/* 1 when the text may hold a secret (a trigger, or a letter that folds to ASCII).
 * fast = 0: the naive reference scan, for tests. */
static int might_contain(const Triggers *w, const unsigned char *p, Py_ssize_t n, int fast) {
    return fast ? scan_pairs(w, p, n) : scan_naive(w, p, n);
}
/* Triggers(triggers): compile lowercase ASCII triggers of 2 to 64 bytes (at most 256).
 * ValueError for a set this scanner cannot hold: the recorder then takes its Python path for
 * every step, which scans with the redactor's own check. */
static PyObject *Triggers_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"triggers", NULL};
    PyObject *triggers;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:Triggers", kwlist, &triggers))
        return NULL;
    PyObject *seq = PySequence_Fast(triggers, "triggers must be a sequence of str");
    if (seq == NULL)
        return NULL;
    Triggers *self = (Triggers *)type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_DECREF(seq);
        return NULL;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    const char *refused = count > MAX_TRIGGERS ? "more than 256 triggers" : NULL;
    for (Py_ssize_t i = 0; i < count && refused == NULL; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        Py_ssize_t n;
        const char *text = PyUnicode_Check(item) ? PyUnicode_AsUTF8AndSize(item, &n) : NULL;
        if (text == NULL) {
            Py_DECREF(seq);
            Py_DECREF(self);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "triggers must be str");
            return NULL;
        }
        int ascii = 1;
        for (Py_ssize_t k = 0; k < n; k++)
            ascii &= (unsigned char)text[k] < 0x80 && LOWER[(unsigned char)text[k]] ==
                     (unsigned char)text[k];
        if (n < 2 || n > MAX_TRIGGER_LEN || !ascii) {
            refused = "a trigger that is not lowercase ASCII of 2 to 64 bytes";
            break;
        }
        Trigger *tr = &self->triggers[self->ntriggers++];
        memcpy(tr->text, text, (size_t)n);
        tr->len = n;
    }
    Py_DECREF(seq);
    if (refused == NULL) {
        self->pair_group = PyMem_Calloc(PAIR_TABLE_SIZE, 1);
        if (self->pair_group == NULL) {
            Py_DECREF(self);
            return PyErr_NoMemory();
        }
        if (!index_triggers(self))
            refused = "more first pairs than the table can name";
    }
    if (refused != NULL) {
        PyErr_Format(PyExc_ValueError, "Triggers: %s", refused);
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void Triggers_dealloc(Triggers *self) {
    PyMem_Free(self->pair_group);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* might_contain(data, fast=True): the secret pre-check on its own (the redactor's, and tests).
 * fast=False: the naive reference scan. */
static PyObject *Triggers_might_contain(Triggers *self, PyObject *args) {
    Py_buffer view;
    int fast = 1;
    if (!PyArg_ParseTuple(args, "y*|p", &view, &fast))
        return NULL;
    int hit = might_contain(self, (const unsigned char *)view.buf, view.len, fast);
    PyBuffer_Release(&view);
    return PyBool_FromLong(hit);
}

static PyObject *Triggers_len(Triggers *self, void *Py_UNUSED(closure)) {
    return PyLong_FromSsize_t(self->ntriggers);
}

static PyMethodDef Triggers_methods[] = {
    {"might_contain", (PyCFunction)Triggers_might_contain, METH_VARARGS,
     "The secret pre-check on UTF-8 bytes: False means no trigger (nor a folding letter)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Triggers_getset[] = {
    {"count", (getter)Triggers_len, NULL, "How many triggers were compiled.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject TriggersType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pytest_tracebench.record._steplog.Triggers",
    .tp_basicsize = sizeof(Triggers),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Secret triggers compiled for the encoder's pre-check (immutable).",
    .tp_new = Triggers_new,
    .tp_dealloc = (destructor)Triggers_dealloc,
    .tp_methods = Triggers_methods,
    .tp_getset = Triggers_getset,
};

/* -- the encoder -------------------------------------------------------------------------- */

/* The time now as seconds with microseconds, "1764032400.123456" without trailing zeros: the
 * value the Python path writes (round(time.time(), 6)), formatted without the cost of a
 * shortest-repr conversion, which was a third of a step's time. */
static Py_ssize_t format_now(char *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long micros = (long long)ts.tv_sec * 1000000LL + (ts.tv_nsec + 500) / 1000;
    int n = format_ll(out, micros / 1000000LL);
    out[n++] = '.';
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

/* What the encoder is given besides the step: the compiled triggers (NULL: redaction off) and
 * the longest line it may return. */
typedef struct {
    const Triggers *triggers;
    Py_ssize_t limit;
} Options;

/* triggers (a Triggers or None) and max_chars, the last two arguments. -1 on a wrong type. */
static int parse_options(PyObject *triggers, PyObject *max_chars, Options *out) {
    if (triggers == Py_None) {
        out->triggers = NULL;
    } else if (Py_IS_TYPE(triggers, &TriggersType)) {
        out->triggers = (const Triggers *)triggers;
    } else {
        PyErr_SetString(PyExc_TypeError, "triggers must be a Triggers or None");
        return -1;
    }
    Py_ssize_t limit = PyLong_AsSsize_t(max_chars);
    if (limit == -1 && PyErr_Occurred())
        return -1;
    out->limit = limit < 0 ? 0 : (limit > PY_SSIZE_T_MAX / 8 ? PY_SSIZE_T_MAX / 8 : limit);
    return 0;
}

/* The fields after input and output, then the pre-check and the newline. rc: what
 * serialising the first fields gave; returns OK (the line is in `b`), SLOW or FAIL. */
static int finish_step(const Options *opt, Buf *b, int rc, PyObject *error,
                             PyObject *meta, PyObject *started_at, PyObject *ended_at,
                             PyObject *parent) {
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
                stamp_len = format_now(stamp);
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
    if (rc == OK && b->len > opt->limit)
        rc = SLOW;
    if (rc == OK && opt->triggers != NULL &&
        might_contain(opt->triggers, (const unsigned char *)b->data, b->len, 1))
        rc = SLOW;
    if (rc == OK)
        rc = buf_reserve(b, 1) == FAIL ? FAIL : OK; /* the newline: always within limit + 8 */
    if (rc == OK)
        b->data[b->len++] = '\n';
    return rc;
}

/* What the encode_* calls return: the line in `b` as bytes (rc OK), None (SLOW) or NULL. */
static PyObject *line_or_none(Buf *b, int rc) {
    PyObject *line = NULL;
    if (rc == OK)
        line = PyBytes_FromStringAndSize(b->data, b->len);
    else if (rc == SLOW)
        line = Py_NewRef(Py_None);
    buf_free(b);
    return line;
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

/* The line of encode_step(index, kind, name, input, output, error, meta, started_at,
 * ended_at, parent) into `b` (initialised here): OK, SLOW or FAIL. */
static int step_line(Buf *b, const Options *opt, PyObject *const *args) {
    buf_init(b, opt->limit);
    if (!PyLong_CheckExact(args[0]) || !PyUnicode_CheckExact(args[1]) ||
        !PyUnicode_CheckExact(args[2]))
        return SLOW;
    int rc = PUT_LIT(b, "{\"type\":\"step\",\"index\":");
    if (rc == OK)
        rc = put_int(b, args[0]);
    static const Lit keys[] = {LIT(",\"kind\":"), LIT(",\"name\":"), LIT(",\"input\":"),
                               LIT(",\"output\":")};
    for (int i = 0; i < 4 && rc == OK; i++) {
        rc = buf_put(b, keys[i].text, keys[i].len);
        if (rc == OK)
            rc = put_value(b, args[i + 1], 1);
    }
    return finish_step(opt, b, rc, args[5], args[6], args[7], args[8], args[9]);
}

/* The line of encode_command(index, command, exit_code, stdout, stderr, cwd, timed_out,
 * started_at, ended_at, name, parent) into `b` (initialised here): OK, SLOW or FAIL. */
static int command_line(Buf *b, const Options *opt, PyObject *const *args) {
    buf_init(b, opt->limit);
    PyObject *command = args[1], *cwd = args[5], *name = args[9];
    if (!PyLong_CheckExact(args[0]) || !PyUnicode_CheckExact(command) ||
        (cwd != Py_None && !PyUnicode_CheckExact(cwd)) ||
        (name != Py_None && !PyUnicode_CheckExact(name)))
        return SLOW;
    int rc = put_head(b, args[0], "\"command\"", 9);
    if (rc == OK)
        rc = PUT_KEY(b, "name");
    if (rc == OK) {
        if (name != Py_None && PyUnicode_GET_LENGTH(name) > 0) {
            rc = put_string(b, name);
        } else {
            Py_ssize_t n;
            const char *text = PyUnicode_AsUTF8AndSize(command, &n);
            if (text == NULL) {
                PyErr_Clear();
                rc = SLOW;
            } else {
                const char *space = memchr(text, ' ', (size_t)n);
                Py_ssize_t first = space == NULL ? n : space - text;
                rc = first > 0 ? put_utf8(b, (const unsigned char *)text, first)
                               : PUT_LIT(b, "\"command\"");
            }
        }
    }
    if (rc == OK)
        rc = PUT_LIT(b, ",\"input\":{\"command\":");
    if (rc == OK)
        rc = put_string(b, command);
    if (rc == OK && cwd != Py_None) {
        rc = PUT_KEY(b, "cwd");
        if (rc == OK)
            rc = put_string(b, cwd);
    }
    static const Lit keys[] = {LIT("},\"output\":{\"exit_code\":"), LIT(",\"stdout\":"),
                               LIT(",\"stderr\":"), LIT(",\"timed_out\":")};
    for (int i = 0; i < 4 && rc == OK; i++) {
        rc = buf_put(b, keys[i].text, keys[i].len);
        if (rc == OK)
            rc = put_value(b, args[i == 3 ? 6 : 2 + i], 1);
    }
    if (rc == OK)
        rc = PUT_LIT(b, "}");
    return finish_step(opt, b, rc, Py_None, Py_None, args[7], args[8], args[10]);
}

/* encode_step(index, kind, name, input, output, error, meta, started_at, ended_at, parent,
 *             triggers, max_chars) -> bytes | None
 *
 * The step's line as the Python recorder writes it (same keys, same order), with its newline;
 * None when the fast path does not apply: the recorder's Python path then makes the line. */
static PyObject *encode_step(PyObject *Py_UNUSED(module), PyObject *const *args,
                             Py_ssize_t nargs) {
    if (nargs != 12) {
        PyErr_SetString(PyExc_TypeError, "encode_step() takes 12 arguments");
        return NULL;
    }
    Options opt;
    if (parse_options(args[10], args[11], &opt) < 0)
        return NULL;
    Buf b;
    return line_or_none(&b, step_line(&b, &opt, args));
}

/* encode_command(index, command, exit_code, stdout, stderr, cwd, timed_out, started_at,
 *                ended_at, name, parent, triggers, max_chars) -> bytes | None
 *
 * TraceRecorder.command()'s line without building its two dicts first: the same line as
 * encode_step(index, "command", name or command.split(" ", 1)[0] or "command",
 *             {"command": command[, "cwd": cwd]},
 *             {"exit_code": ..., "stdout": ..., "stderr": ..., "timed_out": ...}, ...). */
static PyObject *encode_command(PyObject *Py_UNUSED(module), PyObject *const *args,
                                Py_ssize_t nargs) {
    if (nargs != 13) {
        PyErr_SetString(PyExc_TypeError, "encode_command() takes 13 arguments");
        return NULL;
    }
    Options opt;
    if (parse_options(args[11], args[12], &opt) < 0)
        return NULL;
    Buf b;
    return line_or_none(&b, command_line(&b, &opt, args));
}

/* -- the sink ---------------------------------------------------------------------------- */

/* write_step() and write_command() take, first, a sink: a list [fd, count] that the recorder
 * owns (record/_stepwriter.LineWriter.sink). fd is the descriptor step lines may be written
 * to, or -1 while they may not (the header is not written yet, the file is not a regular
 * file, the trace was detached or has ended): then the line is returned instead, and the
 * recorder appends it through its Python writer. count is how many lines were written here.
 *
 * Why this is safe without the recorder's lock: the GIL is held from reading fd to storing
 * count, and nothing in between can run Python code (only exact builtins are serialised, no
 * callback is made, write(2) is called without releasing the GIL, EINTR is retried before
 * signal handlers get to run). The recorder closes the sink (fd = -1, one bytecode, with the
 * GIL) before it reads the count for the end record, reads the lines back, or closes the
 * descriptor. So a write here either happened entirely before that - the line is in the
 * file, counted, and read back - or sees -1 and hands the line back to the Python path,
 * which refuses it after the end under the recorder's lock. The descriptor cannot be closed
 * (or reused for another file) while a line is being written to it. */

/* The sink's descriptor (-1: closed) into *fd; -1 and TypeError when it is not a sink. */
static int parse_sink(PyObject *sink, int *fd) {
    if (!PyList_CheckExact(sink) || PyList_GET_SIZE(sink) != 2 ||
        !PyLong_CheckExact(PyList_GET_ITEM(sink, 0)) ||
        !PyLong_CheckExact(PyList_GET_ITEM(sink, 1))) {
        PyErr_SetString(PyExc_TypeError, "sink must be a list [fd: int, count: int]");
        return -1;
    }
    long value = PyLong_AsLong(PyList_GET_ITEM(sink, 0));
    if (value == -1 && PyErr_Occurred())
        return -1;
    *fd = value < 0 || value > INT_MAX ? -1 : (int)value;
    return 0;
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

/* What the write_* calls return for the line in `b` (rc: how encoding went): True when it was
 * written and counted; the line as bytes when the sink is closed; None when declined; NULL
 * and OSError when the write failed. The OSError carries the line as its `line` attribute
 * (the recorder keeps it in memory), and the sink is closed (fd = -1) so that no other line
 * is written after a partial one. */
static PyObject *write_line(PyObject *sink, int fd, Buf *b, int rc) {
    if (rc != OK || fd < 0)
        return line_or_none(b, rc);
    Py_ssize_t count = PyLong_AsSsize_t(PyList_GET_ITEM(sink, 1));
    PyObject *counted = count < 0 ? NULL : PyLong_FromSsize_t(count + 1);
    if (counted == NULL) { /* made before the write: once the line is out, nothing fails */
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "sink count must not be negative");
        buf_free(b);
        return NULL;
    }
    if (write_all(fd, b->data, b->len) < 0) {
        Py_DECREF(counted);
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        PyObject *line = PyBytes_FromStringAndSize(b->data, b->len);
        buf_free(b);
        PyObject *closed = PyLong_FromLong(-1);
        if (line == NULL || closed == NULL || value == NULL ||
            PyObject_SetAttrString(value, "line", line) < 0) {
            Py_XDECREF(line);
            Py_XDECREF(closed);
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(tb);
            return NULL;
        }
        Py_DECREF(line);
        PyList_SetItem(sink, 0, closed); /* steals `closed` */
        if (tb != NULL)
            PyException_SetTraceback(value, tb);
        PyErr_Restore(type, value, tb);
        return NULL;
    }
    buf_free(b);
    PyList_SetItem(sink, 1, counted); /* steals `counted` */
    Py_RETURN_TRUE;
}

/* write_step(sink, index, kind, name, input, output, error, meta, started_at, ended_at,
 *            parent, triggers, max_chars) -> True | bytes | None
 *
 * encode_step()'s line, written to the sink when it is open (True); the line when it is
 * closed; None when declined (the recorder's Python path makes the line). */
static PyObject *write_step(PyObject *Py_UNUSED(module), PyObject *const *args,
                            Py_ssize_t nargs) {
    if (nargs != 13) {
        PyErr_SetString(PyExc_TypeError, "write_step() takes 13 arguments");
        return NULL;
    }
    int fd;
    Options opt;
    if (parse_sink(args[0], &fd) < 0 || parse_options(args[11], args[12], &opt) < 0)
        return NULL;
    Buf b;
    int rc = step_line(&b, &opt, args + 1);
    return write_line(args[0], fd, &b, rc);
}

/* write_command(sink, index, command, exit_code, stdout, stderr, cwd, timed_out, started_at,
 *               ended_at, name, parent, triggers, max_chars) -> True | bytes | None
 *
 * encode_command()'s line, written as write_step() writes. */
static PyObject *write_command(PyObject *Py_UNUSED(module), PyObject *const *args,
                               Py_ssize_t nargs) {
    if (nargs != 14) {
        PyErr_SetString(PyExc_TypeError, "write_command() takes 14 arguments");
        return NULL;
    }
    int fd;
    Options opt;
    if (parse_sink(args[0], &fd) < 0 || parse_options(args[12], args[13], &opt) < 0)
        return NULL;
    Buf b;
    int rc = command_line(&b, &opt, args + 1);
    return write_line(args[0], fd, &b, rc);
}

static PyMethodDef steplog_methods[] = {
    {"encode_step", (PyCFunction)(void (*)(void))encode_step, METH_FASTCALL,
     "A step's line with its newline, or None: the recorder's Python path makes it."},
    {"encode_command", (PyCFunction)(void (*)(void))encode_command, METH_FASTCALL,
     "A command step's line with its newline, or None: the recorder's Python path makes it."},
    {"write_step", (PyCFunction)(void (*)(void))write_step, METH_FASTCALL,
     "encode_step()'s line, written to the recorder's sink: True, the line (sink closed) or "
     "None (declined)."},
    {"write_command", (PyCFunction)(void (*)(void))write_command, METH_FASTCALL,
     "encode_command()'s line, written to the recorder's sink: True, the line (sink closed) "
     "or None (declined)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef steplog_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pytest_tracebench.record._steplog",
    .m_doc = "The recorder's step encoder: serialise a step, pre-check it for secrets, and "
              "optionally write it to the recorder's sink.",
    .m_size = -1,
    .m_methods = steplog_methods,
};

PyMODINIT_FUNC PyInit__steplog(void) {
    init_escape_tables();
    init_lower();
    if (PyType_Ready(&TriggersType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&steplog_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&TriggersType);
    if (PyModule_AddObject(m, "Triggers", (PyObject *)&TriggersType) < 0) {
        Py_DECREF(&TriggersType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
