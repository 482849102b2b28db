// The interpreter; see render.h.
#include "render.h"

#include <algorithm>
#include <ctime>
#include <unordered_map>

#include "builtins.h"
#include "ptft/core/error.h"
#include "py_str.h"

namespace ptft::jinja {
namespace {

struct Scope {
  std::unordered_map<std::string, Value> vars;
  std::shared_ptr<Scope> parent;
};
using ScopePtr = std::shared_ptr<Scope>;

ScopePtr child(const ScopePtr& parent) {
  auto s = std::make_shared<Scope>();
  s->parent = parent;
  return s;
}

enum class Flow { kNormal, kBreak, kContinue };

class Interpreter {
 public:
  Interpreter(const std::string& origin, const JinjaRenderOptions& options) : origin_(origin), options_(options) {
    env_.max_string_bytes = options.max_output_bytes;
    if (options.now) {
      env_.now = *options.now;
    } else {
      const std::time_t t = std::time(nullptr);
      localtime_r(&t, &env_.now);
    }
    env_.namespaces = &namespaces_;
    env_.filter = [this](const std::string& name, const Value& v, CallArgs& a) { return apply_filter(name, v, a, env_); };
    env_.test = [this](const std::string& name, const Value& v, CallArgs& a) { return apply_test(name, v, a, env_); };
  }

  std::string run(const NodeList& body, const Value& context, std::vector<std::pair<std::size_t, std::size_t>>* spans) {
    spans_ = spans;
    auto globals = std::make_shared<Scope>();
    for (auto& [name, v] : make_globals(env_)) globals->vars[name] = v;
    auto ctx = child(globals);
    for (const auto& [k, v] : context.dict_items()) ctx->vars[k.as_str()] = v;
    std::string out;
    top_ = &out;
    // Namespaces may hold themselves (a reference cycle): emptied when the render ends.
    struct ClearNamespaces {
      std::vector<std::shared_ptr<Namespace>>& all;
      ~ClearNamespaces() {
        for (auto& ns : all) ns->attrs.clear();
      }
    } clear{namespaces_};
    try {
      exec_block(body, child(ctx), out);
    } catch (const RenderError& e) {
      throw to_user_error(e);
    }
    return out;
  }

 private:
  UserError to_user_error(const RenderError& e) const {
    const std::string where = origin_ + ", line " + std::to_string(e.line);
    if (e.type == "TemplateError")
      return UserError("chat template raised: " + e.message,
                       "raise_exception() at " + where + ": the conversation does not fit this chat template");
    if (e.type == "ptft:unsupported")
      return UserError(where + ": " + e.message, "ptft renders the Jinja subset of Hugging Face chat templates (docs/formats.md)");
    if (e.type == "ptft:limit")
      return UserError(where + ": " + e.message,
                       "limits: " + std::to_string(options_.max_output_bytes) + " bytes of output, " +
                           std::to_string(options_.max_loop_iterations) + " loop iterations, " +
                           std::to_string(options_.max_call_depth) + " nested macro calls (JinjaRenderOptions)");
    return UserError(where + ": " + e.type + ": " + e.message,
                     "the template fails on this input as Python's jinja2 would (the same exception)");
  }

  // --- statements
  Flow exec_block(const NodeList& body, const ScopePtr& scope, std::string& out) {
    for (const NodePtr& n : body) {
      const Flow f = exec(*n, scope, out);
      if (f != Flow::kNormal) return f;
    }
    return Flow::kNormal;
  }

  Flow exec(const Node& n, const ScopePtr& scope, std::string& out) {
    try {
      return exec_node(n, scope, out);
    } catch (RenderError& e) {
      if (!e.line) e.line = n.line;
      throw;
    }
  }

  void emit(std::string& out, const std::string& s) {
    out += s;
    if (out.size() > options_.max_output_bytes)
      fail("ptft:limit", "the output grew over the output limit of " + std::to_string(options_.max_output_bytes) + " bytes");
  }

  Flow exec_node(const Node& n, const ScopePtr& scope, std::string& out) {
    switch (n.kind) {
      case NodeKind::kData: emit(out, n.name); return Flow::kNormal;
      case NodeKind::kOutput: emit(out, eval(*n.args[0], scope).str()); return Flow::kNormal;
      case NodeKind::kIf: {
        if (eval(*n.args[0], scope).truthy()) return exec_block(n.body, scope, out);
        return exec_block(n.orelse, scope, out);
      }
      case NodeKind::kFor: return exec_for(n, scope, out);
      case NodeKind::kSet: {
        Value v = eval(*n.args[1], scope);
        assign(*n.args[0], std::move(v), scope);
        return Flow::kNormal;
      }
      case NodeKind::kSetBlock: {
        std::string captured;
        exec_block(n.body, scope, captured);
        Value v = Value::string(std::move(captured));
        if (n.args[1]) v = eval_filter(*n.args[1], scope, &v);
        assign(*n.args[0], std::move(v), scope);
        return Flow::kNormal;
      }
      case NodeKind::kMacro: scope->vars[n.name] = make_macro(n, scope); return Flow::kNormal;
      case NodeKind::kBreak: return Flow::kBreak;
      case NodeKind::kContinue: return Flow::kContinue;
      case NodeKind::kFilterBlock: {
        std::string captured;
        exec_block(n.body, child(scope), captured);
        const Value body = Value::string(std::move(captured));
        emit(out, eval_filter(*n.args[0], scope, &body).str());
        return Flow::kNormal;
      }
      case NodeKind::kWith: {  // values from the enclosing scope, then the body in a new one
        auto inner = child(scope);
        for (std::size_t i = 0; i + 1 < n.args.size(); i += 2) bind(*n.args[i], eval(*n.args[i + 1], scope), inner);
        return exec_block(n.body, inner, out);
      }
      case NodeKind::kGeneration: {
        const std::size_t begin = out.size();
        exec_block(n.body, child(scope), out);
        if (spans_ && &out == top_) spans_->emplace_back(begin, out.size());
        return Flow::kNormal;
      }
      default: fail("TemplateError", "internal: expression node used as a statement");
    }
  }

  // Binds `target` (a name or a tuple of names) to `v` in `scope`.
  void bind(const Node& target, const Value& v, const ScopePtr& scope) {
    if (target.kind == NodeKind::kName) {
      scope->vars[target.name] = v;
      return;
    }
    const ValueList items = v.require_defined().iterate();
    const std::size_t want = target.args.size();
    if (items.size() < want)
      fail("ValueError", "not enough values to unpack (expected " + std::to_string(want) + ", got " + std::to_string(items.size()) + ")");
    if (items.size() > want) fail("ValueError", "too many values to unpack (expected " + std::to_string(want) + ")");
    for (std::size_t i = 0; i < want; ++i) bind(*target.args[i], items[i], scope);
  }

  void assign(const Node& target, Value v, const ScopePtr& scope) {
    if (target.kind == NodeKind::kGetattr) {  // {% set ns.attr = v %}
      const Value obj = lookup(target.args[0]->name, scope);
      if (obj.kind() != Value::Kind::kNamespace)
        fail("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
      Namespace& ns = obj.ns();
      note_namespace_value(ns, v);
      if (!ns.attrs.count(target.name)) ns.order.push_back(target.name);
      ns.attrs[target.name] = std::move(v);
      return;
    }
    bind(target, v, scope);
  }

  Flow exec_for(const Node& n, const ScopePtr& scope, std::string& out) {
    const Value iterable = eval(*n.args[1], scope);
    ValueList items = iterable.iterate();
    if (n.args[2]) {  // `for x in xs if cond`: the loop (and loop.length) sees the kept items only
      ValueList kept;
      for (Value& item : items) {
        count_iteration();
        auto s = child(scope);
        bind(*n.args[0], item, s);
        if (eval(*n.args[2], s).truthy()) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }
    auto state = std::make_shared<LoopState>();
    state->items = std::make_shared<const ValueList>(std::move(items));
    const Value loop = Value::loop(state);
    // jinja2 runs `else` unless some iteration ran its body to the end (not cut by break or
    // continue): an empty loop, or one whose every iteration broke or continued.
    bool completed = false;
    for (std::size_t i = 0; i < state->items->size(); ++i) {
      count_iteration();
      state->index0 = i;
      auto s = child(scope);
      bind(*n.args[0], (*state->items)[i], s);
      s->vars["loop"] = loop;
      const Flow f = exec_block(n.body, s, out);
      if (f == Flow::kNormal) completed = true;
      if (f == Flow::kBreak) break;
    }
    if (!completed) exec_block(n.orelse, child(scope), out);
    return Flow::kNormal;
  }

  void count_iteration() {
    if (++iterations_ > options_.max_loop_iterations)
      fail("ptft:limit", "the template ran more than " + std::to_string(options_.max_loop_iterations) + " loop iterations");
  }

  // The macro holds its defining scope weakly: that scope holds the macro (a strong reference
  // would be a cycle, never freed).
  Value make_macro(const Node& n, const ScopePtr& defining_scope) {
    const Node* node = &n;
    std::weak_ptr<Scope> weak = defining_scope;
    return Value::callable("Macro '" + n.name + "'", [this, node, weak](CallArgs& a) {
      const ScopePtr closure = weak.lock();
      if (!closure)
        fail("ptft:unsupported", "macro " + py::repr(node->name) + " called after the block that defined it ended");
      if (depth_ >= options_.max_call_depth)
        fail("ptft:limit", "macro calls nested more than " + std::to_string(options_.max_call_depth) + " deep");
      const std::string& name = node->name;
      const bool takes_varargs = std::find(node->ops.begin(), node->ops.end(), "varargs") != node->ops.end();
      const bool takes_kwargs = std::find(node->ops.begin(), node->ops.end(), "kwargs") != node->ops.end();
      if (a.positional.size() > node->params.size() && !takes_varargs)
        fail("TypeError", "macro " + py::repr(name) + " takes not more than " + std::to_string(node->params.size()) +
                              " argument(s)");
      auto s = child(closure);
      std::vector<bool> given(node->params.size(), false);
      ValueList varargs;
      ValueDict kwargs;
      for (std::size_t i = 0; i < a.positional.size(); ++i) {
        if (i >= node->params.size()) {
          varargs.push_back(a.positional[i]);
          continue;
        }
        s->vars[node->params[i]] = a.positional[i];
        given[i] = true;
      }
      for (auto& [key, v] : a.keyword) {
        std::size_t i = 0;
        while (i < node->params.size() && node->params[i] != key) ++i;
        if (i == node->params.size() && takes_kwargs) {
          kwargs.emplace_back(Value::string(key), v);
          continue;
        }
        if (i == node->params.size()) fail("TypeError", "macro " + py::repr(name) + " takes no keyword argument " + py::repr(key));
        if (given[i]) fail("TypeError", "macro " + py::repr(name) + " got multiple values for argument " + py::repr(key));
        s->vars[key] = v;
        given[i] = true;
      }
      for (std::size_t i = 0; i < node->params.size(); ++i) {
        if (given[i]) continue;
        s->vars[node->params[i]] = node->args[i] ? eval(*node->args[i], s)
                                                 : Value::undefined_hint("parameter " + py::repr(node->params[i]) + " was not provided");
      }
      if (takes_varargs) s->vars["varargs"] = Value::tuple(std::move(varargs));
      if (takes_kwargs) s->vars["kwargs"] = Value::dict(std::move(kwargs));
      ++depth_;
      std::string out;
      try {
        exec_block(node->body, s, out);
      } catch (...) {
        --depth_;
        throw;
      }
      --depth_;
      return Value::string(std::move(out));
    });
  }

  // --- expressions
  Value lookup(const std::string& name, const ScopePtr& scope) const {
    for (const Scope* s = scope.get(); s; s = s->parent.get()) {
      auto it = s->vars.find(name);
      if (it != s->vars.end()) return it->second;
    }
    return Value::undefined_name(name);
  }

  Value eval(const Node& n, const ScopePtr& scope) {
    try {
      return eval_node(n, scope);
    } catch (RenderError& e) {
      if (!e.line) e.line = n.line;
      throw;
    }
  }

  CallArgs eval_args(const Node& n, std::size_t first, const ScopePtr& scope) {
    CallArgs a;
    for (std::size_t i = first; i < n.args.size(); ++i) a.positional.push_back(eval(*n.args[i], scope));
    for (const auto& [k, v] : n.kwargs) a.keyword.emplace_back(k, eval(*v, scope));
    return a;
  }

  // A filter node; `operand` replaces a null args[0] (the bottom of `{% set x | f %}`'s chain).
  Value eval_filter(const Node& n, const ScopePtr& scope, const Value* operand) {
    const Value v = n.args[0] ? (n.args[0]->kind == NodeKind::kFilter ? eval_filter(*n.args[0], scope, operand)
                                                                       : eval(*n.args[0], scope))
                              : *operand;
    CallArgs a = eval_args(n, 1, scope);
    return apply_filter(n.name, v, a, env_);
  }

  Value eval_node(const Node& n, const ScopePtr& scope) {
    switch (n.kind) {
      case NodeKind::kConst: return n.value;
      case NodeKind::kName: return lookup(n.name, scope);
      case NodeKind::kList:
      case NodeKind::kTuple: {
        ValueList items;
        for (const NodePtr& a : n.args) items.push_back(eval(*a, scope));
        return n.kind == NodeKind::kList ? Value::list(std::move(items)) : Value::tuple(std::move(items));
      }
      case NodeKind::kDict: {
        ValueDict items;
        for (std::size_t i = 0; i + 1 < n.args.size(); i += 2) {
          Value k = eval(*n.args[i], scope);
          Value v = eval(*n.args[i + 1], scope);
          if (!k.hashable()) fail("TypeError", "unhashable type: " + py::repr(k.type_name()));
          bool replaced = false;
          for (auto& kv : items)
            if (kv.first.equals(k)) {
              kv.second = v;
              replaced = true;
            }
          if (!replaced) items.emplace_back(std::move(k), std::move(v));
        }
        return Value::dict(std::move(items));
      }
      case NodeKind::kGetattr: return get_attr(eval(*n.args[0], scope), n.name, env_);
      case NodeKind::kGetitem: {
        const Value obj = eval(*n.args[0], scope);
        const Node& index = *n.args[1];
        if (index.kind == NodeKind::kSlice) {
          Value parts[3];
          for (int i = 0; i < 3; ++i) parts[i] = index.args[i] ? eval(*index.args[i], scope) : Value::none();
          return slice_of(obj, parts[0], parts[1], parts[2]);
        }
        return get_item(obj, eval(index, scope), env_);
      }
      case NodeKind::kCall: {
        const Value callee = eval(*n.args[0], scope);
        CallArgs a = eval_args(n, 1, scope);
        if (callee.is_callable()) return callee.fn().call(a);
        if (callee.is_undefined()) callee.raise_undefined();
        fail("TypeError", py::repr(callee.type_name()) + " object is not callable");
      }
      case NodeKind::kFilter: return eval_filter(n, scope, nullptr);
      case NodeKind::kTest: {
        const Value v = eval(*n.args[0], scope);
        CallArgs a = eval_args(n, 1, scope);
        return Value::boolean(apply_test(n.name, v, a, env_));
      }
      case NodeKind::kNot: return Value::boolean(!eval(*n.args[0], scope).truthy());
      case NodeKind::kNeg: return negate(eval(*n.args[0], scope));
      case NodeKind::kPos: {
        Value v = eval(*n.args[0], scope);
        v.require_defined();
        if (!v.is_number()) fail("TypeError", "bad operand type for unary +: " + py::repr(v.type_name()));
        return v.is_bool() ? Value::integer(v.as_int()) : v;
      }
      case NodeKind::kBinary: {
        const Value a = eval(*n.args[0], scope);
        const Value b = eval(*n.args[1], scope);
        return binary_op(n.name, a, b, env_);
      }
      case NodeKind::kAnd: {
        Value a = eval(*n.args[0], scope);
        return a.truthy() ? eval(*n.args[1], scope) : a;
      }
      case NodeKind::kOr: {
        Value a = eval(*n.args[0], scope);
        return a.truthy() ? a : eval(*n.args[1], scope);
      }
      case NodeKind::kConcat: {
        std::string s;
        for (const NodePtr& a : n.args) {
          s += eval(*a, scope).str();
          check_string_size(s.size(), env_);
        }
        return Value::string(std::move(s));
      }
      case NodeKind::kCompare: {
        Value left = eval(*n.args[0], scope);
        for (std::size_t i = 0; i < n.ops.size(); ++i) {
          Value right = eval(*n.args[i + 1], scope);
          if (!py_compare(n.ops[i], left, right)) return Value::boolean(false);
          left = std::move(right);
        }
        return Value::boolean(true);
      }
      case NodeKind::kCondExpr: {
        if (eval(*n.args[0], scope).truthy()) return eval(*n.args[1], scope);
        if (n.args[2]) return eval(*n.args[2], scope);
        return Value::undefined_hint("the inline if-expression on line " + std::to_string(n.line) +
                                     " evaluated to false and no else section was defined.");
      }
      default: fail("TemplateError", "internal: statement node used as an expression");
    }
  }

  const std::string& origin_;
  const JinjaRenderOptions& options_;
  RenderEnv env_;
  int64_t iterations_ = 0;
  int depth_ = 0;
  std::vector<std::shared_ptr<Namespace>> namespaces_;
  const std::string* top_ = nullptr;                            // the output (not a macro's or a block set's)
  std::vector<std::pair<std::size_t, std::size_t>>* spans_ = nullptr;  // {% generation %} spans in it
};

}  // namespace

std::string render(const NodeList& body, const Value& context, const std::string& origin, const JinjaRenderOptions& options,
                   std::vector<std::pair<std::size_t, std::size_t>>* generation_spans) {
  return Interpreter(origin, options).run(body, context, generation_spans);
}

}  // namespace ptft::jinja
