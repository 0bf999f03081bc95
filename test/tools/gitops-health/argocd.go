package main

// The Argo CD side: a health script runs the way Argo CD's own Lua VM runs a
// `resource.customizations.health.<group>_<kind>` script from argocd-cm (read from Argo CD's source,
// not copied). The environment is what makes a script pass or fail there, so it is reproduced, not
// simplified:
//   - a gopher-lua state WITHOUT the standard libraries (SkipOpenLibs), then only package, base and
//     table opened (Argo CD adds a reduced `os`, which our script does not use and so is left out:
//     a script that called os would fail here, which is the safe direction);
//   - no `string` or `math` library: string.format & co. are nil there, and so they are here;
//   - the object as the global `obj`: maps become tables keyed by string, lists become arrays
//     (1-based), every JSON number a Lua number;
//   - a one-second run time limit;
//   - the script's return value must be a table whose `status` is one of Argo CD's health codes,
//     else the result is Unknown (Argo CD says "Lua returned an invalid health status").

import (
	"context"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// argoHealthCodes are the health status codes Argo CD accepts from a script.
var argoHealthCodes = map[string]bool{"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true}

func argoHealth(obj map[string]any, script string) (*verdict, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	libs := []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}}
	for _, lib := range libs {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return nil, err
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("the health script returned %s, not a table", l.Get(-1).Type())
	}
	v := &verdict{Status: lua.LVAsString(ret.RawGetString("status")), Message: lua.LVAsString(ret.RawGetString("message"))}
	if !argoHealthCodes[v.Status] {
		return &verdict{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
	}
	return v, nil
}

// toLua converts a decoded JSON value (unstructured content) into Lua values.
func toLua(l *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case string:
		return lua.LString(x)
	case int64:
		return lua.LNumber(x)
	case int:
		return lua.LNumber(x)
	case float64:
		return lua.LNumber(x)
	case []any:
		t := l.CreateTable(len(x), 0)
		for _, item := range x {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(x))
		for k, item := range x {
			t.RawSetString(k, toLua(l, item))
		}
		return t
	default:
		return lua.LNil
	}
}
