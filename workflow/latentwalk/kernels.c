#include <math.h>
#include <stddef.h>

__attribute__((simd("notinbranch"))) float expf(float);
__attribute__((simd("notinbranch"))) float logf(float);

#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

CLONES double lw_bernoulli_tail(const float *restrict logits, const float *restrict x, float *restrict grad,
                                float *restrict colsum, long rows, long cols, float scale) {
    double total = 0.0;
    for (long j = 0; j < cols; j++) colsum[j] = 0.0f;
    for (long i = 0; i < rows; i++) {
        const float *l = logits + i * cols, *t = x + i * cols;
        float *g = grad + i * cols;
        float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
        for (long j = 0; j < cols; j++) {
            float v = l[j];
            float p = 1.0f / (1.0f + expf(-v));
            float q = 0.5f + fabsf(p - 0.5f); /* max(p, 1 - p) */
            acc += 0.5f * (v + fabsf(v)) - logf(q) - t[j] * v; /* max(v, 0) */
            float d = (p - t[j]) * scale;
            g[j] = d;
            colsum[j] += d;
        }
        total += acc;
    }
    return total;
}

CLONES void lw_relu_backward_colsum(float *restrict grad, const float *restrict out, float *restrict colsum,
                                    long rows, long cols) {
    for (long j = 0; j < cols; j++) colsum[j] = 0.0f;
    for (long i = 0; i < rows; i++) {
        float *g = grad + i * cols;
        const float *o = out + i * cols;
#pragma omp simd
        for (long j = 0; j < cols; j++) {
            float v = o[j] > 0.0f ? g[j] : 0.0f;
            g[j] = v;
            colsum[j] += v;
        }
    }
}
