// Example C++ AWS Lambda function (custom runtime provided.al2023 + the libfmi C/C++ layer).
//
// The invocation payload says which peer this invocation is (same as the Python example):
//   {"peer_id": 0, "num_peers": 4, "comm_name": "job-42", "rendezvous": "203.0.113.7:10000",
//    "timeout_ms": 30000, "length": 1000}
// The function joins the communicator, runs an allreduce, a non-commutative reduction in rank
// order and a broadcast, checks the results and returns a JSON summary.
//
// Modes:
//   bootstrap '<payload json>'   (or `bootstrap -` to read it from stdin) handles one payload and
//                                prints the result: how the example runs locally under fmirun.
//   bootstrap                    with AWS_LAMBDA_RUNTIME_API set (as Lambda does for a custom
//                                runtime): the Runtime API loop, GET .../invocation/next, handle,
//                                POST .../response (or .../error).
#include <fmi.hpp>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// --- a minimal JSON reader for the flat payload object (strings and integers) ---------------------

bool json_field(const std::string &j, const std::string &key, std::string &out) {
    const std::string k = "\"" + key + "\"";
    std::size_t p = j.find(k);
    while (p != std::string::npos) {
        std::size_t q = p + k.size();
        while (q < j.size() && std::isspace(static_cast<unsigned char>(j[q]))) ++q;
        if (q < j.size() && j[q] == ':') {
            ++q;
            while (q < j.size() && std::isspace(static_cast<unsigned char>(j[q]))) ++q;
            out.clear();
            if (q < j.size() && j[q] == '"') {
                for (++q; q < j.size() && j[q] != '"'; ++q) {
                    if (j[q] == '\\' && q + 1 < j.size()) ++q;
                    out += j[q];
                }
            } else {
                while (q < j.size() && j[q] != ',' && j[q] != '}' && !std::isspace(static_cast<unsigned char>(j[q])))
                    out += j[q++];
            }
            return out != "null";
        }
        p = j.find(k, p + 1);
    }
    return false;
}

std::string json_escape(const std::string &s) {
    std::string o;
    for (char c : s) {
        if (c == '"' || c == '\\') {
            o += '\\';
            o += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char b[8];
            std::snprintf(b, sizeof b, "\\u%04x", c);
            o += b;
        } else {
            o += c;
        }
    }
    return o;
}

struct Payload {
    unsigned peer_id = 0, num_peers = 0;
    std::string comm_name, rendezvous, config;
    unsigned long timeout_ms = 0;
    std::size_t length = 1000;
};

Payload parse_payload(const std::string &j) {
    Payload p;
    std::string v;
    if (!json_field(j, "peer_id", v)) throw std::runtime_error("payload: peer_id is missing");
    p.peer_id = static_cast<unsigned>(std::stoul(v));
    if (!json_field(j, "num_peers", v)) throw std::runtime_error("payload: num_peers is missing");
    p.num_peers = static_cast<unsigned>(std::stoul(v));
    if (!json_field(j, "comm_name", p.comm_name)) throw std::runtime_error("payload: comm_name is missing");
    json_field(j, "rendezvous", p.rendezvous);
    json_field(j, "config", p.config);
    if (json_field(j, "timeout_ms", v)) p.timeout_ms = std::stoul(v);
    if (json_field(j, "length", v)) p.length = std::stoul(v);
    return p;
}

// --- the function ---------------------------------------------------------------------------------

constexpr std::int64_t kPrime = 1000000007;

struct Result {
    std::string json;
    bool ok;
};

Result handle(const std::string &event) {
    const Payload p = parse_payload(event);
    if (!p.rendezvous.empty()) setenv("FMI_RENDEZVOUS", p.rendezvous.c_str(), 1);  // read by fmi_init
    if (p.timeout_ms > 0) setenv("FMI_TIMEOUT_MS", std::to_string(p.timeout_ms).c_str(), 1);
    const char *mem = std::getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
    const unsigned memory = mem ? static_cast<unsigned>(std::strtoul(mem, nullptr, 10)) : 128;
    const auto t0 = std::chrono::steady_clock::now();
    const std::size_t len = p.length;
    const std::uint64_t n = p.num_peers;

    FMI::Communicator comm(p.peer_id, p.num_peers, p.config, p.comm_name, memory);
    // 1. element-wise sum of x_r[i] = r*len + i: closed form len*n(n-1)/2 + n*i
    std::vector<std::int64_t> x(len);
    for (std::size_t i = 0; i < len; ++i) x[i] = static_cast<std::int64_t>(p.peer_id * len + i);
    FMI::Comm::Data<std::vector<std::int64_t>> xs(x), sums(len);
    comm.allreduce(xs, sums, FMI::Utils::Op::sum);
    bool sum_ok = true;
    const auto base = static_cast<std::int64_t>(len * n * (n - 1) / 2);
    for (std::size_t i = 0; i < len; ++i) sum_ok = sum_ok && sums.get()[i] == base + static_cast<std::int64_t>(n * i);
    // 2. "append a digit" modulo a prime: neither commutative nor associative, so only the strict
    //    fold in rank order gives this number
    FMI::Utils::Function<std::int64_t> append([](std::int64_t a, std::int64_t b) { return (a * 10 + b) % kPrime; },
                                              false, false);
    FMI::Comm::Data<std::int64_t> digit(static_cast<std::int64_t>(p.peer_id % 9 + 1)), folded;
    comm.allreduce(digit, folded, append);
    std::int64_t want = 1;
    for (unsigned r = 1; r < p.num_peers; ++r) want = (want * 10 + (r % 9 + 1)) % kPrime;
    const bool order_ok = folded.get() == want;
    // 3. broadcast of the communicator name from the last peer
    std::vector<std::uint8_t> name(p.comm_name.begin(), p.comm_name.end());
    if (p.peer_id != p.num_peers - 1) std::fill(name.begin(), name.end(), 0);
    FMI::Comm::Data<std::vector<std::uint8_t>> msg(name);
    comm.bcast(msg, p.num_peers - 1);
    const bool bcast_ok = std::string(msg.get().begin(), msg.get().end()) == p.comm_name;
    const bool ok = sum_ok && order_ok && bcast_ok;
    FMI::Comm::Data<int> mine(ok ? 1 : 0), all;
    comm.allreduce(mine, all, FMI::Utils::Op::min);
    comm.finalize();

    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::string j = "{\"peer_id\": " + std::to_string(p.peer_id) + ", \"num_peers\": " + std::to_string(p.num_peers) +
                    ", \"comm_name\": \"" + json_escape(p.comm_name) + "\", \"sum_first\": " +
                    (len ? std::to_string(sums.get()[0]) : std::string("null")) +
                    ", \"ordered_fold\": " + std::to_string(folded.get()) + ", \"ok\": " + (ok ? "true" : "false") +
                    ", \"all_ok\": " + (all.get() == 1 ? "true" : "false") + ", \"elapsed_ms\": " +
                    std::to_string(static_cast<long long>(ms)) + ", \"fmi_version\": \"" + fmi_version() + "\"}";
    return {j, ok && all.get() == 1};
}

// --- Lambda Runtime API client (HTTP/1.1 over one TCP connection per request) -----------------

struct HttpResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

HttpResponse http(const std::string &hostport, const std::string &method, const std::string &path,
                  const std::string &body) {
    const std::size_t colon = hostport.rfind(':');
    const std::string host = hostport.substr(0, colon), port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr)
        throw std::runtime_error("runtime API: cannot resolve " + hostport);
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        freeaddrinfo(res);
        if (fd >= 0) close(fd);
        throw std::runtime_error("runtime API: cannot connect to " + hostport);
    }
    freeaddrinfo(res);
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + hostport +
                      "\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    for (std::size_t off = 0; off < req.size();) {
        const ssize_t w = send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
        if (w <= 0) {
            close(fd);
            throw std::runtime_error("runtime API: send failed");
        }
        off += static_cast<std::size_t>(w);
    }
    std::string raw;
    char buf[65536];
    std::size_t header_end = std::string::npos, want = std::string::npos;
    for (;;) {
        const ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0) break;
        raw.append(buf, static_cast<std::size_t>(r));
        if (header_end == std::string::npos && (header_end = raw.find("\r\n\r\n")) != std::string::npos) {
            const std::size_t cl = raw.find("ontent-Length:");  // any capitalisation of C/c
            if (cl != std::string::npos && cl < header_end) want = header_end + 4 + std::stoul(raw.substr(cl + 14));
        }
        if (want != std::string::npos && raw.size() >= want) break;
    }
    close(fd);
    if (header_end == std::string::npos) throw std::runtime_error("runtime API: malformed response");
    HttpResponse out;
    out.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
    std::size_t line = raw.find("\r\n") + 2;
    while (line < header_end) {
        const std::size_t eol = raw.find("\r\n", line), c = raw.find(':', line);
        if (c != std::string::npos && c < eol) {
            std::string k = raw.substr(line, c - line), v = raw.substr(c + 1, eol - c - 1);
            for (auto &ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            v.erase(0, v.find_first_not_of(' '));
            out.headers[k] = v;
        }
        line = eol + 2;
    }
    out.body = raw.substr(header_end + 4, want == std::string::npos ? std::string::npos : want - header_end - 4);
    return out;
}

int runtime_loop(const std::string &api) {
    const std::string base = "/2018-06-01/runtime/invocation/";
    for (;;) {
        const HttpResponse next = http(api, "GET", base + "next", "");
        const auto id = next.headers.find("lambda-runtime-aws-request-id");
        if (next.status != 200 || id == next.headers.end()) {
            std::fprintf(stderr, "runtime API: GET next returned %d\n", next.status);
            return 1;
        }
        try {
            const Result r = handle(next.body);
            http(api, "POST", base + id->second + "/response", r.json);
        } catch (const std::exception &e) {
            const std::string err = std::string("{\"errorMessage\": \"") + json_escape(e.what()) +
                                    "\", \"errorType\": \"" +
                                    (dynamic_cast<const FMI::Error *>(&e) ? "FMI::Error" : "std::exception") + "\"}";
            std::fprintf(stderr, "fmi example: %s\n", e.what());
            http(api, "POST", base + id->second + "/error", err);
        }
    }
}

}  // namespace

int main(int argc, char **argv) {
    try {
        if (argc > 1) {
            std::string payload = argv[1];
            if (payload == "-") payload.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
            const Result r = handle(payload);
            std::cout << r.json << std::endl;
            return r.ok ? 0 : 1;
        }
        if (const char *api = std::getenv("AWS_LAMBDA_RUNTIME_API")) return runtime_loop(api);
        std::fprintf(stderr, "usage: %s '<payload json>' | -   (or run as a Lambda custom runtime)\n", argv[0]);
        return 2;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "fmi example: %s\n", e.what());
        return 1;
    }
}
