// Clients of BlobNode (the executable, tests) see the contract it implements without a second import.
@_exported public import BlobContract
