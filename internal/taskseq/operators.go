package taskseq

import (
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

// The rules of condition classes that no qualifier states, each from the
// class's page or from every saved task sequence. Breaking one is an
// error, as a wrong value is (Validate), on enabled and disabled steps.

// checkClassRules adds the problems of in's class-specific rules.
func checkClassRules(in *cim.Instance, add func(prop, format string, args ...any)) {
	checkNotOperator(in, add)
}

// checkNotOperator: a "not" SMS_TaskSequence_ConditionOperator negates
// exactly one operand. The page lists not beside and and or without saying
// how it combines several operands; every not in the surveyed sequences
// (50, ConfigMgr's and MDT's, ts-xml-format.md §9) has exactly one, and
// the engine has no meaning for more or none.
func checkNotOperator(in *cim.Instance, add func(prop, format string, args ...any)) {
	if !in.Class.IsA(classOperator) || !strings.EqualFold(in.String("OperatorType"), "not") {
		return
	}
	operands, _ := in.Values["Operands"].([]any)
	if len(operands) != 1 {
		add("Operands", "a not operator has exactly one operand; this one has %d", len(operands))
	}
}
