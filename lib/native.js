'use strict'
// The generated native binding, required in this one place; every other file imports it from here.
module.exports = require('../binding.js')
