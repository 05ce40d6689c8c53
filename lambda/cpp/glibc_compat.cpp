// Keeps the example's binary loadable on Amazon Linux 2023 (glibc 2.34) when it is built on a
// newer system. The C++ runtime is linked statically (see CMakeLists.txt); GCC 12's libstdc++.a,
// built against glibc >= 2.36, references arc4random (GLIBC_2.36) from std::random_device, which
// the example never uses but which is linked in with std::string. Defining arc4random here
// resolves that reference inside the executable, so it needs no glibc symbol newer than 2.34.
// The definition is a correct arc4random (the kernel's CSPRNG through getrandom(2), glibc 2.25).
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <sys/random.h>

extern "C" std::uint32_t arc4random(void) noexcept {
    std::uint32_t v = 0;
    unsigned char *p = reinterpret_cast<unsigned char *>(&v);
    std::size_t got = 0;
    while (got < sizeof v) {
        const ssize_t r = getrandom(p + got, sizeof v - got, 0);
        if (r > 0) {
            got += static_cast<std::size_t>(r);
        } else if (r < 0 && errno != EINTR) {
            std::abort();
        }
    }
    return v;
}
