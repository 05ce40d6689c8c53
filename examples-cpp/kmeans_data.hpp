// Deterministic synthetic data for the k-means example: Gaussian blobs, one shard per peer.
// Any process can regenerate any shard bit-for-bit (own RNG, no std:: distributions).
#ifndef FMI_EXAMPLES_KMEANS_DATA_HPP
#define FMI_EXAMPLES_KMEANS_DATA_HPP

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace kmeans {

/// Problem size; identical on every peer.
struct Params {
    std::size_t points_per_peer = 4000;
    std::size_t k = 5;    ///< number of blobs and of clusters
    std::size_t dims = 6; ///< dimensions of a point
    int max_iters = 50;
    double tol = 1e-6;   ///< stop when no centroid moves further than this
    double noise = 4.0;  ///< standard deviation of the blobs (centres lie in [-10, 10))
    std::uint64_t seed = 2024;
};

/// splitmix64: small, fast, portable pseudo-random generator.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    /// Uniform in [0, 1).
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    /// Standard normal (Box-Muller).
    double normal() {
        const double u1 = 1.0 - uniform(); // (0, 1]
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }

private:
    std::uint64_t state_;
};

/// Blob centres, uniform in [-10, 10)^dims (row-major k x dims).
inline std::vector<double> blob_centres(const Params &p) {
    Rng rng(p.seed);
    std::vector<double> c(p.k * p.dims);
    for (double &v : c) {
        v = -10.0 + 20.0 * rng.uniform();
    }
    return c;
}

/// The points of peer `rank` (row-major points_per_peer x dims): a random blob centre plus N(0, noise^2).
inline std::vector<double> shard(const Params &p, unsigned rank) {
    const std::vector<double> centres = blob_centres(p);
    Rng rng(p.seed * 1000003u + rank + 1);
    std::vector<double> pts(p.points_per_peer * p.dims);
    for (std::size_t i = 0; i < p.points_per_peer; ++i) {
        const std::size_t blob = rng.next() % p.k;
        for (std::size_t d = 0; d < p.dims; ++d) {
            pts[i * p.dims + d] = centres[blob * p.dims + d] + p.noise * rng.normal();
        }
    }
    return pts;
}

/// Initial centroids: the first k points of shard 0 (needs points_per_peer >= k).
inline std::vector<double> initial_centroids(const std::vector<double> &shard0, const Params &p) {
    return std::vector<double>(shard0.begin(), shard0.begin() + static_cast<std::ptrdiff_t>(p.k * p.dims));
}

} // namespace kmeans

#endif
