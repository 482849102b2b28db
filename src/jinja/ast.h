// src/jinja/ast.h — the parsed template (private to src/jinja/): one Node type for every
// expression and statement, its fields used as the comment of each kind says.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "value.h"

namespace ptft::jinja {

struct Node;
using NodePtr = std::unique_ptr<Node>;
using NodeList = std::vector<NodePtr>;

enum class NodeKind {
  // --- expressions
  kConst,     // value
  kName,      // name
  kList,      // args: items
  kTuple,     // args: items
  kDict,      // args: key0, value0, key1, value1, ...
  kGetattr,   // args[0]: object; name: attribute
  kGetitem,   // args[0]: object; args[1]: index (a kSlice for x[a:b:c])
  kSlice,     // args[0..2]: start, stop, step (null when omitted)
  kCall,      // args[0]: callee; args[1..]: positional; kwargs
  kFilter,    // name; args[0]: operand (null in `{% set x | f %}`); args[1..]: positional; kwargs
  kTest,      // name; args[0]: operand; args[1..]: positional; kwargs
  kNot,       // args[0]
  kNeg,       // args[0]
  kPos,       // args[0]
  kBinary,    // name: + - * / // % **; args[0], args[1]
  kAnd,       // args[0], args[1]
  kOr,        // args[0], args[1]
  kConcat,    // args: operands of ~
  kCompare,   // args[0]: first operand; ops[i] applies to args[i + 1]: == != < <= > >= in notin
  kCondExpr,  // args[0]: condition; args[1]: value if true; args[2]: value if false (null: Undefined)
  // --- statements
  kData,      // name: literal text
  kOutput,    // args[0]: expression of {{ }}
  kFor,       // args[0]: target (kName or kTuple of kName); args[1]: iterable; args[2]: filter (null); body; orelse
  kIf,        // args[0]: condition; body; orelse (an elif is a kIf alone in orelse)
  kSet,       // args[0]: target (kName, kTuple of kName, kGetattr of kName); args[1]: value
  kSetBlock,  // args[0]: target kName; args[1]: filter chain applied to the body (null); body
  kMacro,     // name; params; args: defaults (null when none), one per param; body; ops: the
              // special names its body uses ("varargs", "kwargs": it takes extra arguments)
  kBreak,
  kContinue,
  kGeneration,  // transformers' {% generation %}: body, rendered as is
  kFilterBlock,  // args[0]: filter chain (its innermost operand null: the body's output); body
  kWith,         // args: target0, value0, target1, value1, ...; body
};

struct Node {
  NodeKind kind;
  int line = 0;
  std::string name;
  Value value;
  NodeList args;
  std::vector<std::pair<std::string, NodePtr>> kwargs;
  std::vector<std::string> ops;     // kCompare
  std::vector<std::string> params;  // kMacro
  NodeList body;
  NodeList orelse;
};

inline NodePtr make_node(NodeKind kind, int line) {
  auto n = std::make_unique<Node>();
  n->kind = kind;
  n->line = line;
  return n;
}

}  // namespace ptft::jinja
