// The k-means (Lloyd) steps shared by the distributed run and the single-process reference.
#ifndef FMI_EXAMPLES_KMEANS_CORE_HPP
#define FMI_EXAMPLES_KMEANS_CORE_HPP

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace kmeans {

/// Squared distance from point x to centroid c.
inline double dist2(const double *x, const double *c, std::size_t dims) {
    double s = 0.0;
    for (std::size_t d = 0; d < dims; ++d) {
        const double t = x[d] - c[d];
        s += t * t;
    }
    return s;
}

/// Index of the nearest centroid (lowest index on ties) and its squared distance.
inline std::size_t nearest(const double *x, const std::vector<double> &cent, std::size_t k, std::size_t dims,
                           double &best) {
    std::size_t arg = 0;
    best = std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < k; ++j) {
        const double d2 = dist2(x, &cent[j * dims], dims);
        if (d2 < best) {
            best = d2;
            arg = j;
        }
    }
    return arg;
}

/// Assignment step over `points`, packed for one allreduce:
/// [0, k*dims) coordinate sums per cluster, [k*dims, k*dims+k) counts, last: inertia.
inline std::vector<double> accumulate(const std::vector<double> &points, const std::vector<double> &cent,
                                      std::size_t k, std::size_t dims) {
    std::vector<double> acc(k * dims + k + 1, 0.0);
    const std::size_t n = points.size() / dims;
    for (std::size_t i = 0; i < n; ++i) {
        const double *x = &points[i * dims];
        double d2 = 0.0;
        const std::size_t j = nearest(x, cent, k, dims, d2);
        for (std::size_t d = 0; d < dims; ++d) {
            acc[j * dims + d] += x[d];
        }
        acc[k * dims + j] += 1.0;
        acc.back() += d2;
    }
    return acc;
}

/// Update step: centroid = sum / count (an empty cluster keeps its centroid). Returns the largest move.
inline double update(std::vector<double> &cent, const std::vector<double> &acc, std::size_t k, std::size_t dims) {
    double shift = 0.0;
    for (std::size_t j = 0; j < k; ++j) {
        const double count = acc[k * dims + j];
        if (count == 0.0) {
            continue;
        }
        double moved2 = 0.0;
        for (std::size_t d = 0; d < dims; ++d) {
            const double c = acc[j * dims + d] / count;
            moved2 += (c - cent[j * dims + d]) * (c - cent[j * dims + d]);
            cent[j * dims + d] = c;
        }
        shift = std::max(shift, std::sqrt(moved2));
    }
    return shift;
}

/// Sum of squared distances of the points to their nearest centroid.
inline double inertia(const std::vector<double> &points, const std::vector<double> &cent, std::size_t k,
                      std::size_t dims) {
    double s = 0.0;
    for (std::size_t i = 0; i < points.size() / dims; ++i) {
        double d2 = 0.0;
        nearest(&points[i * dims], cent, k, dims, d2);
        s += d2;
    }
    return s;
}

/// True if a and b agree within rel relative tolerance (scale floored at 1).
inline bool close(double a, double b, double rel) {
    return std::fabs(a - b) <= rel * std::max({1.0, std::fabs(a), std::fabs(b)});
}

} // namespace kmeans

#endif
