/* test_tensor_types.c - the type table, row sizes, fp16/bf16 conversions and
 * the dequantization of every supported type.
 *
 * Quantized types are checked from the other side of the layout: the test
 * holds a block's logical fields (d, m, scales, mins, one integer per weight),
 * packs them bit by bit where the layout description puts them, and compares
 * every dequantized value with the type's formula applied to the logical
 * fields. The fields are chosen so that every product is exact in float, so
 * the comparisons are bitwise (signed zeros included) whatever order the
 * library multiplies in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <string.h>

#include "model/tensor_types.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static void assert_floats_equal(const float *got, const float *want, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], sizeof(float)) != 0)
            fail_msg("element %zu: got %.9g, want %.9g", i, (double)got[i], (double)want[i]);
}

static void put_u16_le(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v & 0xFF);
    p[1] = (uint8_t)(v >> 8);
}

/* ORs the low `count` bits of value into a byte array, starting at bit
 * `position` (bit 0 = least significant bit of bytes[0]). */
static void put_bits(uint8_t *bytes, unsigned position, unsigned value, unsigned count) {
    for (unsigned i = 0; i < count; i++)
        if ((value >> i) & 1)
            bytes[(position + i) / 8] |= (uint8_t)(1u << ((position + i) % 8));
}

static uint32_t float_bits(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

static float float_of_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* ------------------------------------------------------------------------ */
/* Logical blocks and their packers, one per quantized type                 */

typedef struct logical_block {
    uint16_t d_half, m_half; /* fp16 bits of d and of m (or dmin)        */
    float d, m;              /* the same two values, written by hand      */
    uint8_t q[256];          /* stored integer per weight                 */
    uint8_t sc[16];          /* K-quant scales (int8 bits for Q6_K)       */
    uint8_t mn[8];           /* K-quant mins                              */
} logical_block;

/* The weight pattern: 37 is odd, so consecutive weights walk through every
 * value; the w / 16 term keeps weights w and w + 16 (which share a byte)
 * from repeating each other. */
static uint8_t pattern(unsigned w, unsigned seed, unsigned bits) {
    return (uint8_t)((37 * w + 3 * (w / 16) + seed) & ((1u << bits) - 1));
}

static void fill_weights(logical_block *b, unsigned count, unsigned seed, unsigned bits) {
    for (unsigned w = 0; w < count; w++) b->q[w] = pattern(w, seed, bits);
}

static int as_int8(uint8_t byte) { return byte < 128 ? byte : byte - 256; }

/* Q4_0 / Q4_1 / Q5_0 / Q5_1: the 4 low bits of weight w sit in qs byte w % 16,
 * low nibble for the first 16 weights, high nibble for the last 16. */
static void pack_low_nibbles_32(uint8_t *qs, const uint8_t *q) {
    for (unsigned w = 0; w < 32; w++) put_bits(qs, 8 * (w % 16) + 4 * (w / 16), q[w], 4);
}

/* Q5_0 / Q5_1: bit 4 of weight w is bit w of the 32-bit little-endian qh. */
static void pack_fifth_bits_32(uint8_t *qh, const uint8_t *q) {
    for (unsigned w = 0; w < 32; w++) put_bits(qh, w, q[w] >> 4, 1);
}

static void pack_q4_0(const logical_block *b, uint8_t *out) {
    put_u16_le(out, b->d_half);
    pack_low_nibbles_32(out + 2, b->q);
}

static void pack_q4_1(const logical_block *b, uint8_t *out) {
    put_u16_le(out, b->d_half);
    put_u16_le(out + 2, b->m_half);
    pack_low_nibbles_32(out + 4, b->q);
}

static void pack_q5_0(const logical_block *b, uint8_t *out) {
    put_u16_le(out, b->d_half);
    pack_fifth_bits_32(out + 2, b->q);
    pack_low_nibbles_32(out + 6, b->q);
}

static void pack_q5_1(const logical_block *b, uint8_t *out) {
    put_u16_le(out, b->d_half);
    put_u16_le(out + 2, b->m_half);
    pack_fifth_bits_32(out + 4, b->q);
    pack_low_nibbles_32(out + 8, b->q);
}

static void pack_q8_0(const logical_block *b, uint8_t *out) {
    put_u16_le(out, b->d_half);
    memcpy(out + 2, b->q, 32);
}

/* Where bit `bit` (0..5) of the scale, or of the min, of K sub-block s lives
 * in the 12 scale bytes of Q4_K / Q5_K, as a bit position. */
static unsigned k_scale_bit_position(unsigned s, unsigned bit) {
    if (s < 4) return 8 * s + bit;            /* bytes 0-3, bits 0-5  */
    if (bit < 4) return 8 * (s + 4) + bit;    /* bytes 8-11, bits 0-3 */
    return 8 * (s - 4) + 6 + (bit - 4);       /* bytes 0-3, bits 6-7  */
}

static unsigned k_min_bit_position(unsigned s, unsigned bit) {
    if (s < 4) return 8 * (s + 4) + bit;      /* bytes 4-7, bits 0-5  */
    if (bit < 4) return 8 * (s + 4) + 4 + bit; /* bytes 8-11, bits 4-7 */
    return 8 * s + 6 + (bit - 4);             /* bytes 4-7, bits 6-7  */
}

static void pack_k_scales(const logical_block *b, uint8_t *scales) {
    for (unsigned s = 0; s < 8; s++)
        for (unsigned bit = 0; bit < 6; bit++) {
            put_bits(scales, k_scale_bit_position(s, bit), b->sc[s] >> bit, 1);
            put_bits(scales, k_min_bit_position(s, bit), b->mn[s] >> bit, 1);
        }
}

/* Q4_K / Q5_K: weight w is in 64-weight chunk w / 64, sub-block w / 32 (odd
 * sub-blocks in high nibbles); its byte is 32 * chunk + w % 32. */
static void pack_k_nibbles(uint8_t *qs, const uint8_t *q) {
    for (unsigned w = 0; w < 256; w++)
        put_bits(qs, 8 * (32 * (w / 64) + w % 32) + 4 * ((w / 32) % 2), q[w], 4);
}

static void pack_q4_k(const logical_block *b, uint8_t *out) {
    put_u16_le(out, b->d_half);
    put_u16_le(out + 2, b->m_half);
    pack_k_scales(b, out + 4);
    pack_k_nibbles(out + 16, b->q);
}

static void pack_q5_k(const logical_block *b, uint8_t *out) {
    put_u16_le(out, b->d_half);
    put_u16_le(out + 2, b->m_half);
    pack_k_scales(b, out + 4);
    for (unsigned w = 0; w < 256; w++) /* bit 4: byte w % 32 of qh, bit w / 32 */
        put_bits(out + 16, 8 * (w % 32) + w / 32, b->q[w] >> 4, 1);
    pack_k_nibbles(out + 48, b->q);
}

/* Q6_K: weight w = 128 * half + 32 * quarter + l. Its low 4 bits sit in ql
 * byte 64 * half + 32 * (quarter % 2) + l, nibble quarter / 2; its top 2 bits
 * in qh byte 32 * half + l, bits 2 * quarter and up. */
static void pack_q6_k(const logical_block *b, uint8_t *out) {
    uint8_t *ql = out, *qh = out + 128, *scales = out + 192;
    for (unsigned w = 0; w < 256; w++) {
        unsigned half = w / 128, quarter = (w % 128) / 32, l = w % 32;
        put_bits(ql, 8 * (64 * half + 32 * (quarter % 2) + l) + 4 * (quarter / 2), b->q[w], 4);
        put_bits(qh, 8 * (32 * half + l) + 2 * quarter, b->q[w] >> 4, 2);
    }
    memcpy(scales, b->sc, 16);
    put_u16_le(out + 208, b->d_half);
}

/* The formulas, per weight, on the logical fields. */
static float expect_q4_0(const logical_block *b, unsigned w) { return (b->q[w] - 8) * b->d; }
static float expect_q4_1(const logical_block *b, unsigned w) { return b->q[w] * b->d + b->m; }
static float expect_q5_0(const logical_block *b, unsigned w) { return (b->q[w] - 16) * b->d; }
static float expect_q8_0(const logical_block *b, unsigned w) { return as_int8(b->q[w]) * b->d; }

static float expect_k(const logical_block *b, unsigned w) {
    return b->d * b->sc[w / 32] * b->q[w] - b->m * b->mn[w / 32];
}

static float expect_q6_k(const logical_block *b, unsigned w) {
    return b->d * as_int8(b->sc[w / 16]) * (b->q[w] - 32);
}

typedef struct quant_case {
    uint32_t type;
    unsigned block_size, type_size, bits;
    void (*pack)(const logical_block *, uint8_t *);
    float (*expect)(const logical_block *, unsigned);
} quant_case;

static const quant_case quant_cases[] = {
    {SMOA_TYPE_Q4_0, 32, 18, 4, pack_q4_0, expect_q4_0},
    {SMOA_TYPE_Q4_1, 32, 20, 4, pack_q4_1, expect_q4_1},
    {SMOA_TYPE_Q5_0, 32, 22, 5, pack_q5_0, expect_q5_0},
    {SMOA_TYPE_Q5_1, 32, 24, 5, pack_q5_1, expect_q4_1},
    {SMOA_TYPE_Q8_0, 32, 34, 8, pack_q8_0, expect_q8_0},
    {SMOA_TYPE_Q4_K, 256, 144, 4, pack_q4_k, expect_k},
    {SMOA_TYPE_Q5_K, 256, 176, 5, pack_q5_k, expect_k},
    {SMOA_TYPE_Q6_K, 256, 210, 6, pack_q6_k, expect_q6_k},
};

static const quant_case *find_case(uint32_t type) {
    for (size_t i = 0; i < sizeof quant_cases / sizeof quant_cases[0]; i++)
        if (quant_cases[i].type == type) return &quant_cases[i];
    return NULL;
}

/* Two blocks per test, so the stride from one block to the next is checked.
 * Sub-blocks 4-7 of the K-quants have scales and mins >= 16, so their
 * split-off bits 4-5 matter, and those bits land on top of sub-blocks 0-3's
 * bytes, so a decoder that forgets to mask them shows. */
static const uint8_t k_scales[2][8] = {{1, 7, 15, 63, 16, 33, 47, 62}, {62, 0, 40, 5, 63, 17, 48, 31}};
static const uint8_t k_mins[2][8] = {{0, 9, 31, 63, 21, 58, 17, 44}, {63, 1, 2, 30, 32, 16, 63, 55}};
static const int8_t q6_scales[2][16] = {
    {1, -1, 127, -128, 5, -7, 33, 64, -64, 2, 3, -3, 10, -10, 100, -100},
    {-2, 4, -8, 16, -32, 64, -128, 127, 0, 1, 9, -9, 77, -77, 13, 31}};

static logical_block make_block(const quant_case *c, unsigned index) {
    logical_block b = {0};
    /* d: 0.375 then -0.75; m (or dmin): -2.5 then 1.25, or 0.625 for dmin. */
    b.d_half = index ? 0xba00 : 0x3600;
    b.d = index ? -0.75f : 0.375f;
    bool k_quant = c->block_size == 256;
    b.m_half = k_quant ? 0x3900 : index ? 0x3d00 : 0xc100;
    b.m = k_quant ? 0.625f : index ? 1.25f : -2.5f;
    fill_weights(&b, c->block_size, index ? 11 : 3, c->bits);
    if (c->type == SMOA_TYPE_Q6_K)
        memcpy(b.sc, q6_scales[index], 16);
    else
        memcpy(b.sc, k_scales[index], 8);
    memcpy(b.mn, k_mins[index], 8);
    return b;
}

/* Packs two blocks of the type, dequantizes them in one call and compares
 * every value; leaves the first block's bytes and values for spot checks. */
static void check_two_blocks(uint32_t type, uint8_t *first_block, float *first_values) {
    const quant_case *c = find_case(type);
    assert_non_null(c);
    uint8_t packed[2 * 210] = {0};
    float got[512], want[512];
    for (unsigned i = 0; i < 2; i++) {
        logical_block b = make_block(c, i);
        c->pack(&b, packed + i * c->type_size);
        for (unsigned w = 0; w < c->block_size; w++) want[i * c->block_size + w] = c->expect(&b, w);
    }
    memset(got, 0xff, sizeof got); /* NaN poison: anything left unwritten fails */
    assert_true(smoa_dequantize(type, packed, got, 2 * c->block_size));
    assert_floats_equal(got, want, 2 * c->block_size);
    memcpy(first_block, packed, c->type_size);
    memcpy(first_values, got, c->block_size * sizeof(float));
}

/* ------------------------------------------------------------------------ */
/* Dequantization tests. Spot values are for the first block: seed 3, so   */
/* q[w] = (37w + 3(w/16) + 3) mod 2^bits, d = 0.375.                        */

static void test_q4_0(void **state) {
    (void)state;
    uint8_t b[210];
    float y[256];
    check_two_blocks(SMOA_TYPE_Q4_0, b, y);
    /* q[0] = 3, q[16] = (592 + 3 + 3) mod 16 = 6: qs[0] = 0x63. */
    assert_int_equal(b[2], 0x63);
    assert_true(y[0] == -1.875f); /* (3 - 8) * 0.375 */
    assert_true(y[1] == 0.0f);    /* q[1] = 40 mod 16 = 8 */
    assert_true(y[16] == -0.75f); /* (6 - 8) * 0.375 */
    assert_true(y[31] == -2.625f); /* q = (1147 + 6) mod 16 = 1 */
}

static void test_q4_1(void **state) {
    (void)state;
    uint8_t b[210];
    float y[256];
    check_two_blocks(SMOA_TYPE_Q4_1, b, y);
    assert_int_equal(b[4], 0x63);
    assert_true(y[0] == -1.375f); /* 3 * 0.375 - 2.5 */
    assert_true(y[16] == -0.25f); /* 6 * 0.375 - 2.5 */
    assert_true(y[2] == 2.375f);  /* q = 77 mod 16 = 13: 4.875 - 2.5 */
}

static void test_q5_0(void **state) {
    (void)state;
    uint8_t b[210];
    float y[256];
    check_two_blocks(SMOA_TYPE_Q5_0, b, y);
    /* q[0] = 3, q[1] = 40 mod 32 = 8, q[2] = 77 mod 32 = 13: all below 16,
     * q[3] = 114 mod 32 = 18 has bit 4: qh byte 0 = 0b1000 or more. */
    assert_int_equal(b[2] & 0x0f, 0x08);
    assert_true(y[0] == -4.875f); /* (3 - 16) * 0.375 */
    assert_true(y[3] == 0.75f);   /* (18 - 16) * 0.375 */
    /* q[16] = (592 + 6) mod 32 = 22: high bit set, low nibble 6. */
    assert_true(y[16] == 2.25f);
}

static void test_q5_1(void **state) {
    (void)state;
    uint8_t b[210];
    float y[256];
    check_two_blocks(SMOA_TYPE_Q5_1, b, y);
    assert_true(y[3] == 4.25f);   /* 18 * 0.375 - 2.5 */
    assert_true(y[16] == 5.75f);  /* 22 * 0.375 - 2.5 */
}

static void test_q8_0(void **state) {
    (void)state;
    uint8_t b[210];
    float y[256];
    check_two_blocks(SMOA_TYPE_Q8_0, b, y);
    assert_true(y[0] == 1.125f);    /* 3 * 0.375 */
    /* q[4] = 151 as a byte, -105 as int8. */
    assert_int_equal(b[2 + 4], 151);
    assert_true(y[4] == -39.375f);  /* -105 * 0.375 */
}

static void test_q4_k(void **state) {
    (void)state;
    uint8_t b[210];
    float y[256];
    check_two_blocks(SMOA_TYPE_Q4_K, b, y);
    /* Scale byte 0: sc[0] = 1 plus bits 5-4 of sc[4] = 16 (0b01): 0x41.
     * Byte 8: sc[4] low nibble 0, m[4] = 21 low nibble 5: 0x50. */
    assert_int_equal(b[4 + 0], 0x41);
    assert_int_equal(b[4 + 8], 0x50);
    /* Sub-block 0: y = 0.375 * 1 * q - 0.625 * 0; q[0] = 3. */
    assert_true(y[0] == 1.125f);
    /* Sub-block 5 (weights 160..191, high nibbles of chunk 2): sc 33, m 58.
     * q[160] = (5920 + 30 + 3) mod 16 = 5953 mod 16 = 1:
     * 0.375 * 33 * 1 - 0.625 * 58 = 12.375 - 36.25. */
    assert_true(y[160] == -23.875f);
    /* Sub-block 7, last weight: sc 62, m 44, q[255] = (9435 + 45 + 3) mod 16 = 11:
     * 0.375 * 62 * 11 - 0.625 * 44 = 255.75 - 27.5. */
    assert_true(y[255] == 228.25f);
}

static void test_q5_k(void **state) {
    (void)state;
    uint8_t b[210];
    float y[256];
    check_two_blocks(SMOA_TYPE_Q5_K, b, y);
    /* q[160] = 5953 mod 32 = 1, q[255] = 9483 mod 32 = 11 (no fifth bit);
     * q[3] = 114 mod 32 = 18 has it: sub-block 0, 0.375 * 1 * 18 - 0. */
    assert_true(y[160] == -23.875f);
    assert_true(y[255] == 228.25f);
    assert_true(y[3] == 6.75f);
    /* q[224] = (8288 + 42 + 3) mod 32 = 8333 mod 32 = 13, sub-block 7:
     * 0.375 * 62 * 13 - 27.5. */
    assert_true(y[224] == 274.75f);
}

static void test_q6_k(void **state) {
    (void)state;
    uint8_t b[210];
    float y[256];
    check_two_blocks(SMOA_TYPE_Q6_K, b, y);
    /* d is the last field: bytes 208-209 = 0x3600 little-endian. */
    assert_int_equal(b[208], 0x00);
    assert_int_equal(b[209], 0x36);
    /* q[0] = 3, sub-block 0 scale 1: 0.375 * (3 - 32). */
    assert_true(y[0] == -10.875f);
    /* q[48] = (1776 + 9 + 3) mod 64 = 1788 mod 64 = 60, sub-block 3 scale -128:
     * 0.375 * -128 * 28. */
    assert_true(y[48] == -1344.0f);
    /* q[200] = (7400 + 36 + 3) mod 64 = 7439 mod 64 = 15, sub-block 12 scale 10:
     * 0.375 * 10 * -17. */
    assert_true(y[200] == -63.75f);
}

/* Float types are read little-endian and element by element. */
static void test_float_types(void **state) {
    (void)state;
    const uint8_t f32[8] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc1}; /* 1, -10 */
    const uint8_t f16[6] = {0x00, 0x3c, 0x01, 0x00, 0x00, 0xfc};             /* 1, 2^-24, -inf */
    const uint8_t bf16[4] = {0x80, 0x3f, 0x49, 0x40};                        /* 1, 3.140625 */
    float y[3];
    assert_true(smoa_dequantize(SMOA_TYPE_F32, f32, y, 2));
    assert_true(y[0] == 1.0f && y[1] == -10.0f);
    assert_true(smoa_dequantize(SMOA_TYPE_F16, f16, y, 3));
    assert_true(y[0] == 1.0f && y[1] == 0x1p-24f && isinf(y[2]) && y[2] < 0);
    assert_true(smoa_dequantize(SMOA_TYPE_BF16, bf16, y, 2));
    assert_true(y[0] == 1.0f && y[1] == 3.140625f);
}

static void test_dequantize_rejects(void **state) {
    (void)state;
    uint8_t block[256] = {0};
    float y[256];
    const uint32_t unsupported[] = {4, 9, 10, 11, 15, 16, 23, 28, 31, 39, 43, 1000, UINT32_MAX};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        assert_false(smoa_dequantize(unsupported[i], block, y, 32));
    assert_false(smoa_dequantize(SMOA_TYPE_Q4_0, block, y, 31));
    assert_false(smoa_dequantize(SMOA_TYPE_Q4_K, block, y, 32));
    assert_true(smoa_dequantize(SMOA_TYPE_Q4_K, block, y, 0));
}

/* ------------------------------------------------------------------------ */
/* Type table and row sizes                                                 */

static void test_traits_of_supported_types(void **state) {
    (void)state;
    const struct {
        uint32_t type;
        const char *name;
        uint32_t block_size, type_size;
    } expected[] = {
        {0, "F32", 1, 4},      {1, "F16", 1, 2},       {2, "Q4_0", 32, 18},
        {3, "Q4_1", 32, 20},   {6, "Q5_0", 32, 22},    {7, "Q5_1", 32, 24},
        {8, "Q8_0", 32, 34},   {12, "Q4_K", 256, 144}, {13, "Q5_K", 256, 176},
        {14, "Q6_K", 256, 210}, {30, "BF16", 1, 2},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        const smoa_type_traits *t = smoa_type_traits_get(expected[i].type);
        assert_non_null(t);
        assert_string_equal(t->name, expected[i].name);
        assert_int_equal(t->block_size, expected[i].block_size);
        assert_int_equal(t->type_size, expected[i].type_size);
        assert_string_equal(smoa_type_name_any(expected[i].type), expected[i].name);
    }
}

static void test_traits_null_for_unsupported(void **state) {
    (void)state;
    unsigned supported = 0;
    for (uint32_t type = 0; type < 64; type++) supported += smoa_type_traits_get(type) != NULL;
    assert_int_equal(supported, 11);
    assert_null(smoa_type_traits_get(9));  /* Q8_1: known, not supported */
    assert_null(smoa_type_traits_get(15)); /* Q8_K */
    assert_null(smoa_type_traits_get(4));
    assert_null(smoa_type_traits_get(UINT32_MAX));
}

static void test_names_of_all_ggml_types(void **state) {
    (void)state;
    const char *names[] = {
        "F32",     "F16",    "Q4_0",    "Q4_1",  NULL,     NULL,    "Q5_0",  "Q5_1",
        "Q8_0",    "Q8_1",   "Q2_K",    "Q3_K",  "Q4_K",   "Q5_K",  "Q6_K",  "Q8_K",
        "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS",
        "I8",      "I16",    "I32",     "I64",   "F64",    "IQ1_M", "BF16",  NULL,
        NULL,      NULL,     "TQ1_0",   "TQ2_0", NULL,     NULL,    NULL,    "MXFP4",
        "NVFP4",   "Q1_0",   "Q2_0",    NULL,    NULL,
    };
    for (uint32_t type = 0; type < sizeof names / sizeof names[0]; type++) {
        const char *got = smoa_type_name_any(type);
        if (!names[type]) {
            if (got) fail_msg("id %u: got name %s, want none", type, got);
        } else {
            assert_non_null(got);
            assert_string_equal(got, names[type]);
        }
    }
    assert_null(smoa_type_name_any(1000));
    assert_null(smoa_type_name_any(UINT32_MAX));
}

static void test_row_bytes(void **state) {
    (void)state;
    uint64_t bytes = 0;
    assert_true(smoa_type_row_bytes(SMOA_TYPE_Q4_0, 64, &bytes));
    assert_int_equal(bytes, 36);
    assert_true(smoa_type_row_bytes(SMOA_TYPE_Q6_K, 576, &bytes) == false); /* 2.25 blocks */
    assert_true(smoa_type_row_bytes(SMOA_TYPE_Q6_K, 512, &bytes));
    assert_int_equal(bytes, 420);
    assert_true(smoa_type_row_bytes(SMOA_TYPE_F32, 3, &bytes));
    assert_int_equal(bytes, 12);
    assert_true(smoa_type_row_bytes(SMOA_TYPE_BF16, 0, &bytes));
    assert_int_equal(bytes, 0);
}

static void test_row_bytes_rejects(void **state) {
    (void)state;
    uint64_t bytes = 0;
    assert_false(smoa_type_row_bytes(SMOA_TYPE_Q4_0, 33, &bytes));  /* partial block */
    assert_false(smoa_type_row_bytes(SMOA_TYPE_Q4_K, 255, &bytes));
    assert_false(smoa_type_row_bytes(9, 32, &bytes));               /* Q8_1: unsupported */
    assert_false(smoa_type_row_bytes(4, 32, &bytes));               /* no such type */
    assert_false(smoa_type_row_bytes(UINT32_MAX, 32, &bytes));
    /* Overflow: one element past what 64 bits of bytes can hold. */
    assert_true(smoa_type_row_bytes(SMOA_TYPE_F32, UINT64_MAX / 4, &bytes));
    assert_true(bytes == UINT64_MAX / 4 * 4);
    assert_false(smoa_type_row_bytes(SMOA_TYPE_F32, UINT64_MAX / 4 + 1, &bytes));
    uint64_t max_blocks = UINT64_MAX / 34;
    assert_true(smoa_type_row_bytes(SMOA_TYPE_Q8_0, 32 * max_blocks, &bytes));
    assert_true(bytes == max_blocks * 34);
    assert_false(smoa_type_row_bytes(SMOA_TYPE_Q8_0, 32 * (max_blocks + 1), &bytes));
}

/* ------------------------------------------------------------------------ */
/* fp16                                                                     */

/* The value of a half, from its definition, computed in double. */
static double half_value(uint16_t h) {
    int sign = h >> 15, exponent = (h >> 10) & 31, mantissa = h & 1023;
    double magnitude = exponent == 0 ? ldexp(mantissa, -24)
                                     : ldexp(1024 + mantissa, exponent - 25);
    return sign ? -magnitude : magnitude;
}

static void test_fp16_known_values(void **state) {
    (void)state;
    assert_true(smoa_fp16_to_fp32(0x3c00) == 1.0f);
    assert_true(smoa_fp16_to_fp32(0xc000) == -2.0f);
    assert_true(smoa_fp16_to_fp32(0x3555) == 0.333251953125f);
    assert_true(smoa_fp16_to_fp32(0x7bff) == 65504.0f);
    assert_true(smoa_fp16_to_fp32(0x0400) == 0x1p-14f);            /* smallest normal */
    assert_true(smoa_fp16_to_fp32(0x03ff) == 1023 * 0x1p-24f);     /* largest subnormal */
    assert_true(smoa_fp16_to_fp32(0x0001) == 0x1p-24f);            /* smallest subnormal */
    assert_true(smoa_fp16_to_fp32(0x8001) == -0x1p-24f);
    assert_true(smoa_fp16_to_fp32(0x7c00) == INFINITY);
    assert_true(smoa_fp16_to_fp32(0xfc00) == -INFINITY);
    float negative_zero = smoa_fp16_to_fp32(0x8000);
    assert_true(negative_zero == 0.0f && signbit(negative_zero));
    assert_true(isnan(smoa_fp16_to_fp32(0x7e00)));
    assert_true(isnan(smoa_fp16_to_fp32(0x7c01))); /* signalling NaN stays NaN */
    assert_true(isnan(smoa_fp16_to_fp32(0xffff)));

    assert_int_equal(smoa_fp32_to_fp16(1.0f), 0x3c00);
    assert_int_equal(smoa_fp32_to_fp16(-2.0f), 0xc000);
    assert_int_equal(smoa_fp32_to_fp16(65504.0f), 0x7bff);
    assert_int_equal(smoa_fp32_to_fp16(0x1p-14f), 0x0400);
    assert_int_equal(smoa_fp32_to_fp16(0x1p-24f), 0x0001);
    assert_int_equal(smoa_fp32_to_fp16(0.0f), 0x0000);
    assert_int_equal(smoa_fp32_to_fp16(-0.0f), 0x8000);
    assert_int_equal(smoa_fp32_to_fp16(INFINITY), 0x7c00);
    assert_int_equal(smoa_fp32_to_fp16(-INFINITY), 0xfc00);
    assert_int_equal(smoa_fp32_to_fp16(1e6f), 0x7c00);   /* overflow */
    assert_int_equal(smoa_fp32_to_fp16(FLT_MAX), 0x7c00);
    assert_int_equal(smoa_fp32_to_fp16(-1e6f), 0xfc00);
    assert_int_equal(smoa_fp32_to_fp16(1e-10f), 0x0000); /* underflow */
    assert_int_equal(smoa_fp32_to_fp16(FLT_TRUE_MIN), 0x0000);
    assert_int_equal(smoa_fp32_to_fp16(-1e-10f), 0x8000);
}

static void test_fp16_rounding(void **state) {
    (void)state;
    /* Ties go to the even neighbour, anything past a tie goes away from it. */
    assert_int_equal(smoa_fp32_to_fp16(1.0f + 0x1p-11f), 0x3c00);        /* 1 | 1+2^-10 */
    assert_int_equal(smoa_fp32_to_fp16(1.0f + 3 * 0x1p-11f), 0x3c02);    /* 0x3c01 | 0x3c02 */
    assert_int_equal(smoa_fp32_to_fp16(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);
    assert_int_equal(smoa_fp32_to_fp16(1.0f + 0x1p-11f - 0x1p-20f), 0x3c00);
    assert_int_equal(smoa_fp32_to_fp16(65519.0f), 0x7bff);
    assert_int_equal(smoa_fp32_to_fp16(65520.0f), 0x7c00); /* tie with 65536: even is inf */
    assert_int_equal(smoa_fp32_to_fp16(0x1p-25f), 0x0000); /* tie 0 | 2^-24 */
    assert_int_equal(smoa_fp32_to_fp16(nextafterf(0x1p-25f, 1.0f)), 0x0001);
    assert_int_equal(smoa_fp32_to_fp16(1.5f * 0x1p-24f), 0x0002);  /* tie 1 | 2 */
    assert_int_equal(smoa_fp32_to_fp16(2.5f * 0x1p-24f), 0x0002);  /* tie 2 | 3 */
    assert_int_equal(smoa_fp32_to_fp16(1023.5f * 0x1p-24f), 0x0400); /* into the normals */
    assert_int_equal(smoa_fp32_to_fp16(-1022.5f * 0x1p-24f), 0x83fe);
}

static void test_fp16_nan_stays_nan(void **state) {
    (void)state;
    const uint32_t nans[] = {0x7fc00000, 0x7f800001, 0x7f801000, 0xffc00000, 0x7fffffff};
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) {
        uint16_t h = smoa_fp32_to_fp16(float_of_bits(nans[i]));
        assert_int_equal(h & 0x7c00, 0x7c00);
        assert_int_not_equal(h & 0x03ff, 0);
        assert_int_equal(h >> 15, nans[i] >> 31);
    }
}

/* Every half: the value matches its definition and comes back unchanged; the
 * midpoint to the next half rounds to the even one of the two, and a float
 * step either side of it rounds to the nearer one. */
static void test_fp16_all_values(void **state) {
    (void)state;
    for (uint32_t i = 0; i < 65536; i++) {
        uint16_t h = (uint16_t)i;
        float f = smoa_fp16_to_fp32(h);
        bool nan = (h & 0x7c00) == 0x7c00 && (h & 0x03ff) != 0;
        if (nan) {
            assert_true(isnan(f));
            assert_true(isnan(smoa_fp16_to_fp32(smoa_fp32_to_fp16(f))));
            continue;
        }
        if ((h & 0x7c00) != 0x7c00 && (double)f != half_value(h))
            fail_msg("half 0x%04x: got %.9g, want %.9g", h, (double)f, half_value(h));
        if (smoa_fp32_to_fp16(f) != h) fail_msg("half 0x%04x does not round-trip", h);

        if ((h & 0x7fff) >= 0x7bff) continue; /* no finite next half */
        uint16_t next = (uint16_t)(h + 1);
        float mid = (f + smoa_fp16_to_fp32(next)) / 2; /* exact: one bit more */
        uint16_t even = (h & 1) ? next : h;
        if (smoa_fp32_to_fp16(mid) != even) fail_msg("midpoint after 0x%04x", h);
        float toward_h = nextafterf(mid, f), toward_next = nextafterf(mid, 2 * mid - f);
        if (smoa_fp32_to_fp16(toward_h) != h || smoa_fp32_to_fp16(toward_next) != next)
            fail_msg("near-midpoint after 0x%04x", h);
    }
}

/* ------------------------------------------------------------------------ */
/* bf16                                                                     */

static void test_bf16_known_values(void **state) {
    (void)state;
    assert_true(smoa_bf16_to_fp32(0x3f80) == 1.0f);
    assert_true(smoa_bf16_to_fp32(0xc000) == -2.0f);
    assert_true(smoa_bf16_to_fp32(0x7f80) == INFINITY);
    assert_true(smoa_bf16_to_fp32(0x0001) == 0x1p-133f); /* smallest subnormal */
    assert_true(isnan(smoa_bf16_to_fp32(0x7fc0)));

    assert_int_equal(smoa_fp32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(smoa_fp32_to_bf16(-2.0f), 0xc000);
    assert_int_equal(smoa_fp32_to_bf16(3.14159265f), 0x4049);
    assert_int_equal(smoa_fp32_to_bf16(INFINITY), 0x7f80);
    assert_int_equal(smoa_fp32_to_bf16(-INFINITY), 0xff80);
    assert_int_equal(smoa_fp32_to_bf16(-0.0f), 0x8000);
    assert_int_equal(smoa_fp32_to_bf16(FLT_MAX), 0x7f80);   /* past the largest bf16 */
    assert_int_equal(smoa_fp32_to_bf16(-FLT_MAX), 0xff80);
}

static void test_bf16_rounding(void **state) {
    (void)state;
    assert_int_equal(smoa_fp32_to_bf16(1.0f + 0x1p-8f), 0x3f80);           /* tie, even down */
    assert_int_equal(smoa_fp32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);       /* tie, even up */
    assert_int_equal(smoa_fp32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);
    assert_int_equal(smoa_fp32_to_bf16(float_of_bits(0x00008000)), 0x0000); /* subnormal tie */
    assert_int_equal(smoa_fp32_to_bf16(float_of_bits(0x00018000)), 0x0002);
    assert_int_equal(smoa_fp32_to_bf16(float_of_bits(0x3f80ffff)), 0x3f81);
    assert_int_equal(smoa_fp32_to_bf16(float_of_bits(0x7f7f8000)), 0x7f80); /* tie to inf */
}

static void test_bf16_nan_stays_nan(void **state) {
    (void)state;
    /* Payload only in the low 16 bits: plain truncation would give inf. */
    const uint32_t nans[] = {0x7f800001, 0xff800001, 0x7fc00000, 0x7fffffff};
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) {
        uint16_t h = smoa_fp32_to_bf16(float_of_bits(nans[i]));
        assert_true(isnan(smoa_bf16_to_fp32(h)));
        assert_int_equal(h >> 15, nans[i] >> 31);
    }
}

static void test_bf16_all_values(void **state) {
    (void)state;
    for (uint32_t i = 0; i < 65536; i++) {
        uint16_t h = (uint16_t)i;
        float f = smoa_bf16_to_fp32(h);
        assert_int_equal(float_bits(f), i << 16);
        if (isnan(f))
            assert_true(isnan(smoa_bf16_to_fp32(smoa_fp32_to_bf16(f))));
        else if (smoa_fp32_to_bf16(f) != h)
            fail_msg("bf16 0x%04x does not round-trip", h);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_q4_0),
        cmocka_unit_test(test_q4_1),
        cmocka_unit_test(test_q5_0),
        cmocka_unit_test(test_q5_1),
        cmocka_unit_test(test_q8_0),
        cmocka_unit_test(test_q4_k),
        cmocka_unit_test(test_q5_k),
        cmocka_unit_test(test_q6_k),
        cmocka_unit_test(test_float_types),
        cmocka_unit_test(test_dequantize_rejects),
        cmocka_unit_test(test_traits_of_supported_types),
        cmocka_unit_test(test_traits_null_for_unsupported),
        cmocka_unit_test(test_names_of_all_ggml_types),
        cmocka_unit_test(test_row_bytes),
        cmocka_unit_test(test_row_bytes_rejects),
        cmocka_unit_test(test_fp16_known_values),
        cmocka_unit_test(test_fp16_rounding),
        cmocka_unit_test(test_fp16_nan_stays_nan),
        cmocka_unit_test(test_fp16_all_values),
        cmocka_unit_test(test_bf16_known_values),
        cmocka_unit_test(test_bf16_rounding),
        cmocka_unit_test(test_bf16_nan_stays_nan),
        cmocka_unit_test(test_bf16_all_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
