// ptft/serve/api_error.h — an HTTP error as OpenAI's API reports it, thrown by request parsing
// and handling and turned into the reply by RequestHandler:
//
//   {"error": {"message": "...", "type": "invalid_request_error", "param": "top_p", "code": null}}
//
//   throw ApiError(400, "'top_p' must be in (0, 1], got 0", "top_p");
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace ptft {

class ApiError : public std::runtime_error {
 public:
  // param / code: "" is JSON null. type: OpenAI's "invalid_request_error" for what the client
  // can fix, "server_error" for the server's own failures and overload.
  ApiError(int status, std::string message, std::string param = {}, std::string code = {},
           std::string type = "invalid_request_error")
      : std::runtime_error(message),
        status_(status),
        message_(std::move(message)),
        param_(std::move(param)),
        code_(std::move(code)),
        type_(std::move(type)) {}

  int status() const { return status_; }
  const std::string& param() const { return param_; }
  // {"error": {message, type, param, code}}
  nlohmann::json body() const {
    auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
    return {{"error", {{"message", message_}, {"type", type_}, {"param", or_null(param_)}, {"code", or_null(code_)}}}};
  }

 private:
  int status_;
  std::string message_, param_, code_, type_;
};

}  // namespace ptft
