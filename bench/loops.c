/* The three benchmark loops of issue 9 in C, with exactly the machine's semantics and counters:
 * the complexity ca0 (saturating, charged after each instruction, cl0 checked each time), the
 * jump counter cy0 (65535 jumps at most), defined flags, st0, and the reference's signed store
 * rule (a negative signed result keeps only the bytes of its minimal two's complement).
 *
 *   loop1   add.sw a64[0],a64[1]; jmp 0
 *   loop4   4 x add.sw a64[0],a64[1]; jmp 0
 *   loopmix add.sw a8; add.sw a16; add.sw a32; mul.sw a64; xor a64[0],a64[1],a64[2]; jmp 0
 *
 * Built by bench/bench_native.py with the system C compiler (-O2) as a shared object and called
 * through ctypes in the benchmark's own process.
 */
#include <stdint.h>

typedef struct {
    uint64_t a8[2], a16[2], a32[2], a64[3];   /* values (zero-extended patterns) */
    uint8_t d8[2], d16[2], d32[2], d64[3];    /* defined flags */
    uint8_t st0, has_cl0;
    uint32_t cy0;
    uint64_t ca0, cl0;
} state_t;

/* store_signed(v, W): v is a W-bit two's-complement pattern of a signed result */
static inline uint64_t store_signed(uint64_t v, int w) {
    uint64_t sign = 1ull << (w - 1);
    if (!(v & sign)) return v;
    uint64_t inv = ~v & (w == 64 ? ~0ull : (1ull << w) - 1);
    int bl = inv ? 64 - __builtin_clzll(inv) : 0;     /* bit length of ~v */
    int bits = (bl + 8) & ~7;                          /* minimal width + 1, whole bytes */
    if (bits >= w) return v;
    return v & ((1ull << bits) - 1);
}

static inline uint64_t wrap(uint64_t v, int w) { return w == 64 ? v : v & ((1ull << w) - 1); }

/* The machine state in locals (so the compiler keeps it in registers), written back at the end. */
typedef struct {
    uint64_t v8[2], v16[2], v32[2], v64[3];
    uint8_t d8[2], d16[2], d32[2], d64[3];
    int st0, has_cl0;
    uint32_t cy0;
    uint64_t ca0, cl0;
} local_t;

static inline local_t load(const state_t *s) {
    local_t l;
    for (int k = 0; k < 2; k++) {
        l.v8[k] = s->a8[k]; l.v16[k] = s->a16[k]; l.v32[k] = s->a32[k];
        l.d8[k] = s->d8[k]; l.d16[k] = s->d16[k]; l.d32[k] = s->d32[k];
    }
    for (int k = 0; k < 3; k++) { l.v64[k] = s->a64[k]; l.d64[k] = s->d64[k]; }
    l.st0 = s->st0; l.has_cl0 = s->has_cl0; l.cy0 = s->cy0; l.ca0 = s->ca0; l.cl0 = s->cl0;
    return l;
}

static inline void save(state_t *s, const local_t *l) {
    for (int k = 0; k < 2; k++) {
        s->a8[k] = l->v8[k]; s->a16[k] = l->v16[k]; s->a32[k] = l->v32[k];
        s->d8[k] = l->d8[k]; s->d16[k] = l->d16[k]; s->d32[k] = l->d32[k];
    }
    for (int k = 0; k < 3; k++) { s->a64[k] = l->v64[k]; s->d64[k] = l->d64[k]; }
    s->st0 = (uint8_t)l->st0; s->cy0 = l->cy0; s->ca0 = l->ca0;
}

/* charge one instruction; 1 = the limit is reached (st0 = false, stop) */
static inline int charge(local_t *s, uint64_t cx) {
    uint64_t c = s->ca0 + cx;
    s->ca0 = c < s->ca0 ? ~0ull : c;
    if (s->has_cl0 && s->ca0 >= s->cl0) { s->st0 = 0; return 1; }
    return 0;
}

#define ARITH_SW(v, d, w, OP)                                                             \
    do {                                                                                  \
        if (d[0] && d[1]) { v[1] = store_signed(wrap(v[0] OP v[1], w), w); d[1] = 1; s->st0 = 1; } \
        else { d[1] = 0; v[1] = 0; s->st0 = 0; }                                          \
        if (charge(s, 1)) goto done;                                                      \
    } while (0)

/* jmp: 1 = stopped */
static inline int jump(local_t *s) {
    if (s->cy0 >= 65535) { s->st0 = 0; charge(s, 2); return 1; }
    s->cy0++;
    return charge(s, 2);
}

void loop1(state_t *state) {
    local_t l = load(state), *s = &l;
    for (;;) {
        ARITH_SW(s->v64, s->d64, 64, +);
        if (jump(s)) goto done;
    }
done:
    save(state, s);
}

void loop4(state_t *state) {
    local_t l = load(state), *s = &l;
    for (;;) {
        ARITH_SW(s->v64, s->d64, 64, +);
        ARITH_SW(s->v64, s->d64, 64, +);
        ARITH_SW(s->v64, s->d64, 64, +);
        ARITH_SW(s->v64, s->d64, 64, +);
        if (jump(s)) goto done;
    }
done:
    save(state, s);
}

void loopmix(state_t *state) {
    local_t l = load(state), *s = &l;
    for (;;) {
        ARITH_SW(s->v8, s->d8, 8, +);
        ARITH_SW(s->v16, s->d16, 16, +);
        ARITH_SW(s->v32, s->d32, 32, +);
        ARITH_SW(s->v64, s->d64, 64, *);
        /* xor a64[0],a64[1] -> a64[2]: st0 untouched */
        if (s->d64[0] && s->d64[1]) { s->v64[2] = s->v64[0] ^ s->v64[1]; s->d64[2] = 1; }
        else { s->v64[2] = 0; s->d64[2] = 0; }
        if (charge(s, 1)) goto done;
        if (jump(s)) goto done;
    }
done:
    save(state, s);
}
