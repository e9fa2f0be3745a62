// Clients of MetaQuorum (the executable, tests) see the contract it implements without a second import.
@_exported public import MetaContract
