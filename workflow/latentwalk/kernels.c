/* Fused float32 loops of latentwalk's MLP training step (latentwalk/kernels.py documents and loads them).

   Row-major (rows x cols) arrays, one thread. Each loop is compiled three times (AVX-512, AVX2, baseline x86-64)
   and the loader picks the one the CPU runs; the exponentials and logarithms are glibc's vector functions
   (libmvec), declared here since <math.h> declares them only under -ffast-math, which these loops do not use. */
#include <math.h>
#include <stddef.h>

__attribute__((simd("notinbranch"))) float expf(float);
__attribute__((simd("notinbranch"))) float logf(float);

#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

CLONES double lw_bernoulli_tail(const float *restrict logits, const float *restrict bias, const float *restrict x,
                                float *restrict grad, float *restrict colsum, long rows, long cols, float scale) {
    double total = 0.0;
    for (long j = 0; j < cols; j++) colsum[j] = 0.0f;
    for (long i = 0; i < rows; i++) {
        const float *l = logits + i * cols, *t = x + i * cols;
        float *g = grad + i * cols;
        float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
        for (long j = 0; j < cols; j++) {
            float v = l[j] + bias[j];
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

/* A hidden layer's bias and ReLU, in place on the product x W^T (rows x cols): h = max(h + bias, 0). */
CLONES void lw_bias_relu(float *restrict h, const float *restrict bias, long rows, long cols) {
    for (long i = 0; i < rows; i++) {
        float *r = h + i * cols;
#pragma omp simd
        for (long j = 0; j < cols; j++) {
            float v = r[j] + bias[j];
            r[j] = v < 0.0f ? 0.0f : v; /* a NaN stays NaN, as in torch's relu */
        }
    }
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

/* The reparameterisation of a Gaussian encoder's head: adds the bias to out = [mu | logvar] (rows x 2d, in
   place), then std = exp(logvar / 2) and z = mu + noise * std, both rows x d. */
CLONES void lw_reparameterise(float *restrict out, const float *restrict bias, const float *restrict noise,
                              float *restrict std, float *restrict z, long rows, long d) {
    for (long i = 0; i < rows; i++) {
        float *mu = out + i * 2 * d, *lv = mu + d;
        const float *e = noise + i * d;
        float *s = std + i * d, *zi = z + i * d;
#pragma omp simd
        for (long j = 0; j < d; j++) {
            float m = mu[j] + bias[j], l = lv[j] + bias[d + j];
            float sj = expf(0.5f * l);
            mu[j] = m;
            lv[j] = l;
            s[j] = sj;
            zi[j] = m + e[j] * sj;
        }
    }
}

/* Back through the reparameterisation and the KL term kl_scale * sum(mu^2 + std^2 - 1 - logvar) / 2: from
   dz = d loss / d z (rows x d) writes dout = d loss / d [mu | logvar] (rows x 2d) and colsum = dout.sum(0) (the
   head's bias gradient); returns sum(mu^2 + std^2 - 1 - logvar) (twice the KL, unscaled). */
CLONES double lw_reparameterise_backward(const float *restrict dz, const float *restrict out,
                                         const float *restrict noise, const float *restrict std,
                                         float *restrict dout, float *restrict colsum, long rows, long d,
                                         float kl_scale) {
    double total = 0.0;
    for (long j = 0; j < 2 * d; j++) colsum[j] = 0.0f;
    for (long i = 0; i < rows; i++) {
        const float *mu = out + i * 2 * d, *lv = mu + d, *e = noise + i * d, *s = std + i * d, *g = dz + i * d;
        float *dmu = dout + i * 2 * d, *dlv = dmu + d;
        float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
        for (long j = 0; j < d; j++) {
            float var = s[j] * s[j];
            acc += mu[j] * mu[j] + var - 1.0f - lv[j];
            float a = g[j] + kl_scale * mu[j];
            float b = 0.5f * (g[j] * e[j] * s[j] + kl_scale * (var - 1.0f));
            dmu[j] = a;
            dlv[j] = b;
            colsum[j] += a;
            colsum[d + j] += b;
        }
        total += acc;
    }
    return total;
}
