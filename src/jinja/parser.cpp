// jinja2's grammar, for the chat-template subset; see parser.h.
#include "parser.h"

#include <cerrno>
#include <cstdlib>

#include "ptft/core/error.h"

namespace ptft::jinja {
namespace {

constexpr int kMaxNesting = 200;  // expression / block nesting: deeper is an error, not a stack overflow

const char* kSubsetHint = "ptft renders the Jinja subset of Hugging Face chat templates (docs/formats.md)";

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, const std::string& origin) : t_(tokens), origin_(origin) {}

  NodeList parse_template() {
    NodeList body = subparse({});
    if (cur().type != TokenType::kEnd) fail_here("unexpected tag");
    return body;
  }

 private:
  // --- token stream
  const Token& cur() const { return t_[i_]; }
  const Token& look() const { return t_[i_ + 1 < t_.size() ? i_ + 1 : i_]; }
  const Token& next() { return t_[i_ < t_.size() - 1 ? i_++ : i_]; }
  bool is_op(const char* op) const { return cur().type == TokenType::kOperator && cur().value == op; }
  bool is_name(const char* name) const { return cur().type == TokenType::kName && cur().value == name; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* name) {
    if (!is_name(name)) return false;
    next();
    return true;
  }

  static std::string describe(const Token& t) {
    switch (t.type) {
      case TokenType::kData: return "template text";
      case TokenType::kVarBegin: return "'{{'";
      case TokenType::kVarEnd: return "'}}'";
      case TokenType::kBlockBegin: return "'{%'";
      case TokenType::kBlockEnd: return "'%}'";
      case TokenType::kEnd: return "end of template";
      case TokenType::kString: return "string";
      default: return "'" + t.value + "'";
    }
  }

  [[noreturn]] void fail_at(int line, const std::string& what, const std::string& hint = "") const {
    throw UserError(origin_ + ", line " + std::to_string(line) + ": " + what,
                    hint.empty() ? "the chat template is not valid Jinja (docs/formats.md lists the subset ptft renders)" : hint);
  }
  [[noreturn]] void fail_here(const std::string& what) const {
    fail_at(cur().line, "template syntax error: " + what + ", got " + describe(cur()));
  }
  [[noreturn]] void unsupported(int line, const std::string& construct) const {
    const bool file = construct == "'{% include %}'" || construct == "'{% import %}'" || construct == "'{% from %}'" ||
                      construct == "'{% extends %}'";
    fail_at(line, "unsupported Jinja construct " + construct +
                      (file ? " (a chat template cannot read other files)" : " (not in ptft's Jinja subset)"),
            kSubsetHint);
  }

  void expect_op(const char* op) {
    if (!skip_op(op)) fail_here(std::string("expected '") + op + "'");
  }
  std::string expect_name() {
    if (cur().type != TokenType::kName) fail_here("expected a name");
    return next().value;
  }
  void expect(TokenType type, const char* what) {
    if (cur().type != type) fail_here(std::string("expected ") + what);
    next();
  }

  struct Depth {
    Depth(Parser& p, int line) : p_(p) {
      if (++p_.depth_ > kMaxNesting) p_.fail_at(line, "template nested more than " + std::to_string(kMaxNesting) + " levels deep");
    }
    ~Depth() { --p_.depth_; }
    Parser& p_;
  };

  // --- statements
  // Nodes up to a block tag whose name is in `end` (left unconsumed: the current token is that name).
  NodeList subparse(const std::vector<std::string>& end) {
    NodeList body;
    while (true) {
      const Token& t = cur();
      if (t.type == TokenType::kEnd) {
        if (!end.empty()) {
          std::string names;
          for (const auto& e : end) names += (names.empty() ? "'" : " or '") + e + "'";
          fail_at(open_.empty() ? t.line : open_.back().first,
                  "template syntax error: unexpected end of template: the block opened here needs " + names);
        }
        return body;
      }
      if (t.type == TokenType::kData) {
        auto n = make_node(NodeKind::kData, t.line);
        n->name = t.value;
        body.push_back(std::move(n));
        next();
      } else if (t.type == TokenType::kVarBegin) {
        next();
        auto n = make_node(NodeKind::kOutput, t.line);
        n->args.push_back(parse_tuple(true, {}));
        expect(TokenType::kVarEnd, "'}}'");
        body.push_back(std::move(n));
      } else if (t.type == TokenType::kBlockBegin) {
        next();
        if (cur().type == TokenType::kName)
          for (const auto& e : end)
            if (cur().value == e) return body;
        body.push_back(parse_statement());
        expect(TokenType::kBlockEnd, "'%}'");
      } else {
        fail_here("unexpected token");
      }
    }
  }

  // After the tag's own tokens: '%}', the body up to one of `end`; `drop` consumes that end name.
  NodeList statements(const std::vector<std::string>& end, bool drop, int open_line) {
    expect(TokenType::kBlockEnd, "'%}'");
    open_.emplace_back(open_line, end);
    NodeList body = subparse(end);
    open_.pop_back();
    if (drop) next();
    return body;
  }

  NodePtr parse_statement() {
    const Token& t = cur();
    if (t.type != TokenType::kName) fail_here("expected a tag name");
    Depth depth(*this, t.line);
    const std::string& tag = t.value;
    if (tag == "for") return parse_for();
    if (tag == "if") return parse_if();
    if (tag == "set") return parse_set();
    if (tag == "macro") return parse_macro();
    if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) fail_at(t.line, "template syntax error: '" + tag + "' outside a for loop");
      next();
      return make_node(tag == "break" ? NodeKind::kBreak : NodeKind::kContinue, t.line);
    }
    if (tag == "generation") {  // a call block in jinja2: its body is a function, break/continue do not reach out
      next();
      auto n = make_node(NodeKind::kGeneration, t.line);
      const int saved = loop_depth_;
      loop_depth_ = 0;
      n->body = statements({"endgeneration"}, true, t.line);
      loop_depth_ = saved;
      return n;
    }
    if (tag.compare(0, 3, "end") == 0 || tag == "else" || tag == "elif") {
      std::string hint;
      if (!open_.empty()) {
        hint = " (the block opened on line " + std::to_string(open_.back().first) + " needs ";
        for (std::size_t i = 0; i < open_.back().second.size(); ++i)
          hint += (i ? " or '" : "'") + open_.back().second[i] + "'";
        hint += ")";
      }
      fail_at(t.line, "template syntax error: unexpected '" + tag + "'" + hint);
    }
    if (tag == "filter") {  // {% filter f | g(x) %}...{% endfilter %}
      next();
      auto n = make_node(NodeKind::kFilterBlock, t.line);
      n->args.push_back(parse_filters(nullptr, true));
      n->body = statements({"endfilter"}, true, t.line);
      return n;
    }
    if (tag == "with") {  // {% with a = 1, b = 2 %}...{% endwith %}
      next();
      auto n = make_node(NodeKind::kWith, t.line);
      while (cur().type != TokenType::kBlockEnd) {
        if (!n->args.empty()) expect_op(",");
        n->args.push_back(parse_assign_target(true, {}));
        expect_op("=");
        n->args.push_back(parse_expression(true));
      }
      n->body = statements({"endwith"}, true, t.line);
      return n;
    }
    static const char* kKnownUnsupported[] = {"include", "import", "from", "extends", "block", "call",
                                              "autoescape", "do", "trans", "print"};
    for (const char* u : kKnownUnsupported)
      if (tag == u) unsupported(t.line, "'{% " + tag + " %}'");
    fail_at(t.line, "template syntax error: unknown tag '" + tag + "'");
  }

  NodePtr parse_for() {
    const int line = next().line;
    auto n = make_node(NodeKind::kFor, line);
    n->args.push_back(parse_assign_target(false, {"in"}));
    if (!skip_name("in")) fail_here("expected 'in'");
    n->args.push_back(parse_tuple(false, {"recursive"}));
    if (skip_name("if")) n->args.push_back(parse_expression(true));
    else n->args.push_back(nullptr);
    if (is_name("recursive")) unsupported(cur().line, "'{% for ... recursive %}'");
    ++loop_depth_;
    n->body = statements({"endfor", "else"}, false, line);
    --loop_depth_;
    if (next().value == "else") n->orelse = statements({"endfor"}, true, line);
    return n;
  }

  NodePtr parse_if() {
    const int line = next().line;
    auto result = make_node(NodeKind::kIf, line);
    Node* node = result.get();
    while (true) {
      node->args.push_back(parse_tuple(false, {}));
      node->body = statements({"elif", "else", "endif"}, false, line);
      const Token& t = next();
      if (t.value == "elif") {
        auto elif = make_node(NodeKind::kIf, t.line);
        Node* raw = elif.get();
        node->orelse.push_back(std::move(elif));
        node = raw;
        continue;
      }
      if (t.value == "else") node->orelse = statements({"endif"}, true, line);
      return result;
    }
  }

  NodePtr parse_set() {
    const int line = next().line;
    NodePtr target;
    if (cur().type == TokenType::kName && look().type == TokenType::kOperator && look().value == ".") {
      auto ref = make_node(NodeKind::kGetattr, cur().line);
      auto obj = make_node(NodeKind::kName, cur().line);
      obj->name = next().value;
      next();
      ref->name = expect_name();
      ref->args.push_back(std::move(obj));
      target = std::move(ref);
    } else {
      target = parse_assign_target(true, {});
    }
    if (skip_op("=")) {
      auto n = make_node(NodeKind::kSet, line);
      n->args.push_back(std::move(target));
      n->args.push_back(parse_tuple(true, {}));
      return n;
    }
    if (target->kind != NodeKind::kName) fail_at(line, "template syntax error: a block set assigns one name");
    auto n = make_node(NodeKind::kSetBlock, line);
    n->args.push_back(std::move(target));
    n->args.push_back(is_op("|") ? parse_filters(nullptr) : nullptr);
    n->body = statements({"endset"}, true, line);
    return n;
  }

  NodePtr parse_macro() {
    const int line = next().line;
    auto n = make_node(NodeKind::kMacro, line);
    n->name = expect_name();
    expect_op("(");
    bool defaults = false;
    while (!is_op(")")) {
      if (!n->params.empty()) expect_op(",");
      if (is_op(")")) break;
      n->params.push_back(expect_name());
      if (skip_op("=")) {
        n->args.push_back(parse_expression(true));
        defaults = true;
      } else {
        if (defaults) fail_here("non-default argument follows default argument");
        n->args.push_back(nullptr);
      }
    }
    next();
    const int saved = loop_depth_;
    loop_depth_ = 0;
    n->body = statements({"endmacro"}, true, line);
    loop_depth_ = saved;
    for (const char* special : {"varargs", "kwargs"})
      if (uses_name(n->body, special)) n->ops.push_back(special);
    if (uses_name(n->body, "caller")) unsupported(line, "'caller' in a macro ({% call %} blocks)");
    return n;
  }

  // Whether `name` is read anywhere in `nodes` (jinja2 gives a macro varargs / kwargs when so).
  static bool uses_name(const NodeList& nodes, const char* name) {
    for (const NodePtr& n : nodes)
      if (n && uses_name_in(*n, name)) return true;
    return false;
  }
  static bool uses_name_in(const Node& n, const char* name) {
    if (n.kind == NodeKind::kName && n.name == name) return true;
    if (uses_name(n.args, name) || uses_name(n.body, name) || uses_name(n.orelse, name)) return true;
    for (const auto& kw : n.kwargs)
      if (kw.second && uses_name_in(*kw.second, name)) return true;
    return false;
  }

  // A name or a tuple of names (for targets, set targets).
  NodePtr parse_assign_target(bool allow_paren, const std::vector<std::string>& extra_end) {
    const int line = cur().line;
    NodeList names;
    bool is_tuple = false;
    const bool paren = allow_paren && skip_op("(");
    while (true) {
      if (!names.empty()) {
        if (!skip_op(",")) break;
        is_tuple = true;
        if (is_tuple_end(extra_end) || is_op(")")) break;
      }
      auto n = make_node(NodeKind::kName, cur().line);
      if (cur().type != TokenType::kName) fail_here("can only assign to names");
      n->name = next().value;
      if (n->name == "true" || n->name == "false" || n->name == "none" || n->name == "True" || n->name == "False" ||
          n->name == "None")
        fail_at(n->line, "template syntax error: cannot assign to '" + n->name + "'");
      names.push_back(std::move(n));
    }
    if (paren) expect_op(")");
    if (!is_tuple && !paren) return std::move(names[0]);
    if (!is_tuple && names.size() == 1) return std::move(names[0]);
    auto t = make_node(NodeKind::kTuple, line);
    t->args = std::move(names);
    return t;
  }

  // --- expressions
  bool is_tuple_end(const std::vector<std::string>& extra_end) const {
    if (cur().type == TokenType::kVarEnd || cur().type == TokenType::kBlockEnd || cur().type == TokenType::kEnd) return true;
    if (is_op(")")) return true;
    for (const auto& e : extra_end)
      if (cur().type == TokenType::kName && cur().value == e) return true;
    return false;
  }

  NodePtr parse_tuple(bool with_condexpr, const std::vector<std::string>& extra_end, bool explicit_parens = false) {
    const int line = cur().line;
    NodeList items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (is_tuple_end(extra_end)) break;
      items.push_back(parse_expression(with_condexpr));
      if (is_op(",")) is_tuple = true;
      else break;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) fail_here("expected an expression");
    }
    auto t = make_node(NodeKind::kTuple, line);
    t->args = std::move(items);
    return t;
  }

  NodePtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  NodePtr parse_condexpr() {
    int line = cur().line;
    NodePtr expr1 = parse_or();
    while (skip_name("if")) {
      NodePtr expr2 = parse_or();
      NodePtr expr3 = skip_name("else") ? parse_condexpr() : nullptr;
      auto n = make_node(NodeKind::kCondExpr, line);
      n->args.push_back(std::move(expr2));
      n->args.push_back(std::move(expr1));
      n->args.push_back(std::move(expr3));
      expr1 = std::move(n);
      line = cur().line;
    }
    return expr1;
  }

  NodePtr binary(NodeKind kind, NodePtr a, NodePtr b, int line, const std::string& op = "") {
    auto n = make_node(kind, line);
    n->name = op;
    n->args.push_back(std::move(a));
    n->args.push_back(std::move(b));
    return n;
  }

  NodePtr parse_or() {
    const int line = cur().line;
    NodePtr left = parse_and();
    while (skip_name("or")) left = binary(NodeKind::kOr, std::move(left), parse_and(), line);
    return left;
  }

  NodePtr parse_and() {
    const int line = cur().line;
    NodePtr left = parse_not();
    while (skip_name("and")) left = binary(NodeKind::kAnd, std::move(left), parse_not(), line);
    return left;
  }

  NodePtr parse_not() {
    if (is_name("not")) {
      Depth depth(*this, cur().line);
      auto n = make_node(NodeKind::kNot, next().line);
      n->args.push_back(parse_not());
      return n;
    }
    return parse_compare();
  }

  NodePtr parse_compare() {
    const int line = cur().line;
    NodePtr expr = parse_math1();
    auto n = make_node(NodeKind::kCompare, line);
    while (true) {
      if (cur().type == TokenType::kOperator &&
          (cur().value == "==" || cur().value == "!=" || cur().value == "<" || cur().value == "<=" ||
           cur().value == ">" || cur().value == ">=")) {
        n->ops.push_back(next().value);
      } else if (skip_name("in")) {
        n->ops.push_back("in");
      } else if (is_name("not") && look().type == TokenType::kName && look().value == "in") {
        next();
        next();
        n->ops.push_back("notin");
      } else {
        break;
      }
      n->args.push_back(parse_math1());
    }
    if (n->ops.empty()) return expr;
    n->args.insert(n->args.begin(), std::move(expr));
    return n;
  }

  NodePtr parse_math1() {
    const int line = cur().line;
    NodePtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      const std::string op = next().value;
      left = binary(NodeKind::kBinary, std::move(left), parse_concat(), line, op);
    }
    return left;
  }

  NodePtr parse_concat() {
    const int line = cur().line;
    NodePtr first = parse_math2();
    if (!is_op("~")) return first;
    auto n = make_node(NodeKind::kConcat, line);
    n->args.push_back(std::move(first));
    while (skip_op("~")) n->args.push_back(parse_math2());
    return n;
  }

  NodePtr parse_math2() {
    const int line = cur().line;
    NodePtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const std::string op = next().value;
      left = binary(NodeKind::kBinary, std::move(left), parse_pow(), line, op);
    }
    return left;
  }

  NodePtr parse_pow() {
    const int line = cur().line;
    NodePtr left = parse_unary(true);
    while (skip_op("**")) left = binary(NodeKind::kBinary, std::move(left), parse_unary(true), line, "**");
    return left;
  }

  NodePtr parse_unary(bool with_filter) {
    Depth depth(*this, cur().line);
    const int line = cur().line;
    NodePtr node;
    if (is_op("-") || is_op("+")) {
      const bool neg = next().value == "-";
      node = make_node(neg ? NodeKind::kNeg : NodeKind::kPos, line);
      node->args.push_back(parse_unary(false));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  NodePtr parse_primary() {
    const Token& t = cur();
    if (t.type == TokenType::kName) {
      next();
      auto n = make_node(NodeKind::kConst, t.line);
      if (t.value == "true" || t.value == "True") n->value = Value::boolean(true);
      else if (t.value == "false" || t.value == "False") n->value = Value::boolean(false);
      else if (t.value == "none" || t.value == "None") n->value = Value::none();
      else {
        n->kind = NodeKind::kName;
        n->name = t.value;
      }
      return n;
    }
    if (t.type == TokenType::kString) {
      auto n = make_node(NodeKind::kConst, t.line);
      std::string s;
      while (cur().type == TokenType::kString) s += next().value;  // adjacent literals concatenate
      n->value = Value::string(std::move(s));
      return n;
    }
    if (t.type == TokenType::kInteger) {
      next();
      errno = 0;
      const long long v = std::strtoll(t.value.c_str(), nullptr, 10);
      if (errno == ERANGE) fail_at(t.line, "integer literal " + t.value + " does not fit in 64 bits", kSubsetHint);
      auto n = make_node(NodeKind::kConst, t.line);
      n->value = Value::integer(v);
      return n;
    }
    if (t.type == TokenType::kFloat) {
      next();
      auto n = make_node(NodeKind::kConst, t.line);
      n->value = Value::number(std::strtod(t.value.c_str(), nullptr));
      return n;
    }
    if (is_op("(")) {
      next();
      NodePtr n = parse_tuple(true, {}, true);
      expect_op(")");
      return n;
    }
    if (is_op("[")) {
      auto n = make_node(NodeKind::kList, next().line);
      while (!is_op("]")) {
        if (!n->args.empty()) expect_op(",");
        if (is_op("]")) break;
        n->args.push_back(parse_expression(true));
      }
      next();
      return n;
    }
    if (is_op("{")) {
      auto n = make_node(NodeKind::kDict, next().line);
      while (!is_op("}")) {
        if (!n->args.empty()) expect_op(",");
        if (is_op("}")) break;
        n->args.push_back(parse_expression(true));
        expect_op(":");
        n->args.push_back(parse_expression(true));
      }
      next();
      return n;
    }
    fail_here("unexpected token");
  }

  NodePtr parse_postfix(NodePtr node) {
    while (true) {
      if (is_op(".") || is_op("[")) node = parse_subscript(std::move(node));
      else if (is_op("(")) node = parse_call(std::move(node));
      else return node;
    }
  }

  NodePtr parse_filter_expr(NodePtr node) {
    while (true) {
      if (is_op("|")) node = parse_filters(std::move(node));
      else if (is_name("is")) node = parse_test(std::move(node));
      else if (is_op("(")) node = parse_call(std::move(node));
      else return node;
    }
  }

  NodePtr parse_subscript(NodePtr node) {
    const Token& t = next();
    if (t.value == ".") {
      const Token& attr = next();
      if (attr.type == TokenType::kName) {
        auto n = make_node(NodeKind::kGetattr, t.line);
        n->name = attr.value;
        n->args.push_back(std::move(node));
        return n;
      }
      if (attr.type != TokenType::kInteger) fail_at(attr.line, "template syntax error: expected name or number after '.'");
      auto n = make_node(NodeKind::kGetitem, t.line);
      n->args.push_back(std::move(node));
      auto idx = make_node(NodeKind::kConst, attr.line);
      idx->value = Value::integer(std::strtoll(attr.value.c_str(), nullptr, 10));
      n->args.push_back(std::move(idx));
      return n;
    }
    NodeList args;
    while (!is_op("]")) {
      if (!args.empty()) expect_op(",");
      args.push_back(parse_subscribed());
    }
    next();
    auto n = make_node(NodeKind::kGetitem, t.line);
    n->args.push_back(std::move(node));
    if (args.size() == 1) {
      n->args.push_back(std::move(args[0]));
    } else {
      auto tup = make_node(NodeKind::kTuple, t.line);
      tup->args = std::move(args);
      n->args.push_back(std::move(tup));
    }
    return n;
  }

  NodePtr parse_subscribed() {
    const int line = cur().line;
    NodeList parts;
    if (is_op(":")) {
      next();
      parts.push_back(nullptr);
    } else {
      NodePtr e = parse_expression(true);
      if (!is_op(":")) return e;
      next();
      parts.push_back(std::move(e));
    }
    if (is_op(":") || is_op("]") || is_op(",")) parts.push_back(nullptr);
    else parts.push_back(parse_expression(true));
    if (skip_op(":")) {
      if (is_op("]") || is_op(",")) parts.push_back(nullptr);
      else parts.push_back(parse_expression(true));
    } else {
      parts.push_back(nullptr);
    }
    auto n = make_node(NodeKind::kSlice, line);
    n->args = std::move(parts);
    return n;
  }

  // '(' args ')' into n->args (after any already there) and n->kwargs.
  void parse_call_args(Node& n) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) unsupported(cur().line, "'*args' / '**kwargs' in a call");
      if (cur().type == TokenType::kName && look().type == TokenType::kOperator && look().value == "=") {
        std::string key = next().value;
        next();
        n.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!n.kwargs.empty()) fail_here("positional argument after keyword argument");
        n.args.push_back(parse_expression(true));
      }
    }
    next();
  }

  NodePtr parse_call(NodePtr node) {
    auto n = make_node(NodeKind::kCall, cur().line);
    n->args.push_back(std::move(node));
    parse_call_args(*n);
    return n;
  }

  // `| f | g(x)` after `node`; `inline_first`: the first filter comes without its '|' ({% filter f %}).
  NodePtr parse_filters(NodePtr node, bool inline_first = false) {
    while (inline_first || skip_op("|")) {
      inline_first = false;
      const int line = cur().line;
      std::string name = expect_name();
      if (!has_filter(name))
        fail_at(line, "unknown or unsupported filter '" + name + "'", kSubsetHint);
      auto n = make_node(NodeKind::kFilter, line);
      n->name = name;
      n->args.push_back(std::move(node));
      if (is_op("(")) parse_call_args(*n);
      node = std::move(n);
    }
    return node;
  }

  NodePtr parse_test(NodePtr node) {
    const int line = next().line;
    const bool negated = skip_name("not");
    std::string name = expect_name();
    if (!has_test(name)) fail_at(line, "unknown or unsupported test '" + name + "'", kSubsetHint);
    auto n = make_node(NodeKind::kTest, line);
    n->name = name;
    n->args.push_back(std::move(node));
    if (is_op("(")) {
      parse_call_args(*n);
    } else if ((cur().type == TokenType::kName || cur().type == TokenType::kString || cur().type == TokenType::kInteger ||
                cur().type == TokenType::kFloat || is_op("(") || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail_here("cannot chain multiple tests with 'is'");
      n->args.push_back(parse_postfix(parse_primary()));
    }
    if (!negated) return n;
    auto neg = make_node(NodeKind::kNot, line);
    neg->args.push_back(std::move(n));
    return neg;
  }

  const std::vector<Token>& t_;
  const std::string& origin_;
  std::size_t i_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  std::vector<std::pair<int, std::vector<std::string>>> open_;  // open blocks: line, the tags that may end them
};

}  // namespace

NodeList parse(const std::vector<Token>& tokens, const std::string& origin) { return Parser(tokens, origin).parse_template(); }

}  // namespace ptft::jinja
