#include "ptft/core/tcp_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ptft/core/error.h"

namespace ptft {

int free_tcp_port(const std::string& addr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw UserError(std::string("cannot open a socket: ") + std::strerror(errno), "");
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = 0;
  if (::inet_pton(AF_INET, addr.c_str(), &sa.sin_addr) != 1) sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw UserError("cannot find a free TCP port on " + addr + ": " + why,
                    "choose one yourself: ptft launch --master-port P (or MASTER_PORT for torchrun-style launchers)");
  }
  ::close(fd);
  return ntohs(sa.sin_port);
}

}  // namespace ptft
