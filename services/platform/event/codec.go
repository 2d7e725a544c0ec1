package event

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// TypeOf returns the stored type name of a payload: its full protobuf name.
func TypeOf(m proto.Message) string { return string(m.ProtoReflect().Descriptor().FullName()) }

// Marshal encodes a payload deterministically.
func Marshal(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// Decode returns the payload of e as its protobuf message. The events package that defines the
// type must be linked into the binary (any import of it registers its types).
func (e Event) Decode() (proto.Message, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(e.Type))
	if err != nil {
		return nil, fmt.Errorf("event %s: unknown type %q: %w", e.ID, e.Type, err)
	}
	m := mt.New().Interface()
	if err := proto.Unmarshal(e.Payload, m); err != nil {
		return nil, fmt.Errorf("event %s: decode %s: %w", e.ID, e.Type, err)
	}
	return m, nil
}
