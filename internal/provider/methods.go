package provider

import (
	"context"
	"strings"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// methodFunc implements one class method. target is the instance for an
// instance method (nil for a static one); in holds the [in] parameters by
// declared name. It returns the [out] parameters and the ReturnValue.
type methodFunc func(ctx context.Context, m *cim.Method, target *Object, in map[string]any) (out map[string]any, ret int64, err error)

// MethodResult is what a method call returns.
type MethodResult struct {
	ReturnValue any            // SInt32 for most methods; the result for methods that return a value
	Out         map[string]any // [out] parameters by declared name
	// Warnings are problems that did not stop the call (a template's
	// missing values, a disabled step naming a missing package).
	Warnings []string
}

// warningsOut is the member of a methodFunc's out map that carries the
// call's warnings ([]string); it is no parameter of the method.
const warningsOut = "@tsprov.warnings"

// methodTable lists the methods implemented so far, by "class.method" in
// lower case. A method declared in the schema but absent here answers
// errs.NotImplemented.
func (p *Provider) methodTable() map[string]methodFunc {
	return map[string]methodFunc{
		"sms_tasksequencepackage.importsequence":               p.importSequence,
		"sms_tasksequencepackage.getsequence":                  p.getSequence,
		"sms_tasksequencepackage.setsequence":                  p.setSequence,
		"sms_tasksequencepackage.gettsrelatedtodrivercategory": p.tsRelatedToDriverCategory,
		"sms_tasksequencepackage.addchangenotification":        p.addChangeNotification,
		"sms_packagebaseclass.adddistributionpoints":           p.addDistributionPoints,
		"sms_tasksequencepackage.setsourcesite":                p.setSourceSite,
		"sms_tasksequencepackage.unlock":                       p.unlock,
		"sms_tasksequencepackage.gettspolicies":                p.getTsPolicies,
		"sms_tasksequencepackage.gettspoliciessamedia":         p.getTsPoliciesSaMedia,
		"sms_tasksequencepackage.getclientconfigpolicies":      p.getClientConfigPolicies,
		"sms_objectlock.requestlock":                           p.objectLockRequestLock,
		"sms_objectlock.requestlockasync":                      p.objectLockRequestLockAsync,
		"sms_objectlock.requestlocks":                          p.objectLockRequestLocks("ObjectRelPaths", false),
		"sms_objectlock.requestlocksasync":                     p.objectLockRequestLocks("ObjectRelPath", true),
		"sms_objectlock.checklockrequest":                      p.objectLockCheckLockRequest,
		"sms_objectlock.checklockrequests":                     p.objectLockCheckLockRequests,
		"sms_objectlock.cancellockrequest":                     p.objectLockCancel,
		"sms_objectlock.cancellockrequests":                    p.objectLockCancel,
		"sms_objectlock.getlockinformation":                    p.objectLockGetLockInformation,
		"sms_objectlock.releaselock":                           p.objectLockRelease,
		"sms_objectlock.releaselocks":                          p.objectLockRelease,
		"sms_objectlock.releasealllocks":                       p.objectLockReleaseAll,
		"sms_tasksequence.savetoxml":                           p.saveToXML,
		"sms_tasksequence.exportxml":                           p.exportXML,
		"sms_tasksequence.loadfromxml":                         p.loadFromXML,
		"sms_packagebaseclass.refreshpkgsource":                p.refreshPkgSource,
		"sms_tasksequencepackage.getcontenthash":               p.getContentHash,
		"sms_tasksequencepackage.getpackagedefaulthash":        p.getPackageDefaultHash,
		"sms_tasksequencepackage.getpackagehash":               p.getPackageHash,
		"sms_tasksequencepackage.checkreferencessharetype":     p.checkReferencesShareType,
	}
}

// Invoke calls a method. key is "" for a static method and the instance key
// for an instance method. Outcomes: the result; errs.NotFound for an
// unknown class, method or instance; errs.Invalid when a static method is
// called on an instance or the other way round, or for a missing or
// unknown parameter; errs.NotImplemented for a method not built yet.
// Invoke takes in over: a method may change the values it holds
// (SetSequence fills in defaults and seals the sequence it stores rather
// than copy 2 MB of it first), so a caller passes values it does not use
// again, as the HTTP handlers do with the parameters they decode.
func (p *Provider) Invoke(ctx context.Context, className, key, methodName string, in map[string]any) (*MethodResult, error) {
	c, err := p.Class(className)
	if err != nil {
		return nil, err
	}
	m, ok := c.Method(methodName)
	if !ok {
		return nil, errs.Target(errs.NotFound, methodName, "class %s has no method %s", c.Name, methodName)
	}
	switch {
	case m.IsStatic() && key != "":
		return nil, errs.E(errs.Invalid, "%s.%s is a static method: call it on the class (POST .../%s.%s), not on an instance", c.Name, m.Name, c.Name, m.Name)
	case !m.IsStatic() && key == "":
		return nil, errs.E(errs.Invalid, "%s.%s is an instance method: call it on an instance (POST .../%s('<key>')/AdminService.%s)", c.Name, m.Name, c.Name, m.Name)
	}
	for name := range in {
		prm, ok := m.Param(name)
		if !ok || !prm.In {
			return nil, errs.Target(errs.Invalid, name, "method %s.%s has no [in] parameter %s", c.Name, m.Name, name)
		}
	}
	if err := notServed(c); err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, methodKey{}, m.Name)
	if _, err := p.authorize(ctx, c, key, auth.Read); err != nil {
		return nil, p.audited(ctx, err)
	}
	fn, ok := p.calls[strings.ToLower(m.Origin+"."+m.Name)]
	if !ok {
		fn, ok = p.calls[strings.ToLower(c.Name+"."+m.Name)]
	}
	var target *Object
	if key != "" {
		if target, err = p.Get(ctx, c.Name, key); err != nil {
			return nil, err
		}
	}
	if !ok {
		return nil, errs.E(errs.NotImplemented, "method %s.%s is declared but not implemented yet in tsprov", c.Name, m.Name)
	}
	out, ret, err := fn(ctx, m, target, in)
	if err != nil {
		return nil, p.audited(ctx, err)
	}
	res := &MethodResult{ReturnValue: ret, Out: out}
	if w, ok := out[warningsOut].([]string); ok {
		res.Warnings = w
		delete(out, warningsOut)
	}
	if v, ok := out["ReturnValue"]; ok {
		res.ReturnValue = v
		delete(out, "ReturnValue")
	}
	return res, nil
}
