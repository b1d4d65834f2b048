package api

import (
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// Text a client sends must not hold NUL bytes: Postgres refuses them in text
// columns (a 500 on every query that compares with one) while SQLite stores them,
// and no name, id or search term needs one. They are refused as Invalid in two
// shared places: refuseNULInURL for paths and query parameters, before routing
// resolves a tenant; refuseNULInBody for the decoded JSON of bindJSON and
// bindStrictJSON.

// errNUL is the refusal for a NUL byte in where ("query parameter \"q\"").
func errNUL(where string) error {
	return errkind.New(errkind.Invalid, "%s contains a NUL byte (\\u0000); remove it", where)
}

// refuseNULInURL refuses a request whose path or query parameters hold a NUL byte
// (sent as %00).
func refuseNULInURL() gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := nulInURL(c.Request.URL); err != nil {
			writeError(c, err)
			return
		}
		c.Next()
	}
}

// nulInURL is refuseNULInURL's check, apart from the middleware so that the
// query it parses takes no room in the middleware's frame, which stays on the
// stack while a stream is relayed.
func nulInURL(u *url.URL) error {
	if strings.ContainsRune(u.Path, 0) {
		return errNUL("the URL path")
	}
	if strings.Contains(u.RawQuery, "%00") || strings.ContainsRune(u.RawQuery, 0) {
		q, _ := url.ParseQuery(u.RawQuery)
		for k, vs := range q {
			for _, v := range vs {
				if strings.ContainsRune(k, 0) || strings.ContainsRune(v, 0) {
					return errNUL(fmt.Sprintf("query parameter %q", strings.ReplaceAll(k, "\x00", `\u0000`)))
				}
			}
		}
		return errNUL("the query string")
	}
	return nil
}

// refuseNULInBody walks a decoded request body (structs by their JSON names,
// slices, maps and pointers) and refuses the first string holding a NUL byte,
// naming its field ("body field \"models[0]\"").
func refuseNULInBody(v any) error {
	if where := findNUL(reflect.ValueOf(v), ""); where != "" {
		return errNUL(fmt.Sprintf("body field %q", where))
	}
	return nil
}

// findNUL returns the path of the first string under v holding a NUL, or "".
func findNUL(v reflect.Value, path string) string {
	name := func() string {
		if path == "" {
			return "(body)"
		}
		return path
	}
	switch v.Kind() {
	case reflect.String:
		if strings.ContainsRune(v.String(), 0) {
			return name()
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return findNUL(v.Elem(), path)
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return "" // raw bytes (json.RawMessage) are not text
		}
		for i := range v.Len() {
			if w := findNUL(v.Index(i), path+"["+strconv.Itoa(i)+"]"); w != "" {
				return w
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			key := fmt.Sprint(it.Key().Interface())
			if strings.ContainsRune(key, 0) {
				return name()
			}
			if w := findNUL(it.Value(), joinPath(path, key)); w != "" {
				return w
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			field := sf.Name
			if tag, _, _ := strings.Cut(sf.Tag.Get("json"), ","); tag == "-" {
				continue
			} else if tag != "" {
				field = tag
			}
			if sf.Anonymous {
				field = ""
			}
			if w := findNUL(v.Field(i), joinPath(path, field)); w != "" {
				return w
			}
		}
	}
	return ""
}

func joinPath(path, field string) string {
	switch {
	case field == "":
		return path
	case path == "":
		return field
	}
	return path + "." + field
}
