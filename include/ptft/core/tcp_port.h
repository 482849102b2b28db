// ptft/core/tcp_port.h — a free TCP port for a rendezvous (ptft launch, and tests that start
// data-parallel processes themselves). Torch-free.
//
//   const int port = free_tcp_port();   // nothing listens on 127.0.0.1:port right now
#pragma once

#include <string>

namespace ptft {

// A TCP port on `addr` (IPv4; anything else: loopback) that nothing listens on right now: bind
// to port 0, read the port, close. UserError when no socket can be bound.
int free_tcp_port(const std::string& addr = "127.0.0.1");

}  // namespace ptft
